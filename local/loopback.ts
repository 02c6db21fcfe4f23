import type { AddressInfo, Server } from 'node:net';

export interface LoopbackListener {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** Where a client on this machine reaches a server bound to `host`: the wildcard addresses through loopback. */
export const reachableHost = (host: string) =>
  host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

/**
 * Listens on 127.0.0.1 only (port 0 = a free one), or on `host` when `npm start --bind-address` asks
 * for it, and gives back how to reach and stop the server.
 */
export async function listenOnLoopback(
  server: Server,
  port = 0,
  scheme = 'http',
  host = '127.0.0.1',
): Promise<LoopbackListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `${scheme}://${reachableHost(host)}:${actual}`,
    port: actual,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
