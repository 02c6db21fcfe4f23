import type { AddressInfo, Server } from 'node:net';

export interface LoopbackListener {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 only (port 0 = a free one) and gives back how to reach and stop the server. */
export async function listenOnLoopback(server: Server, port = 0, scheme = 'http'): Promise<LoopbackListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `${scheme}://127.0.0.1:${actual}`,
    port: actual,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
