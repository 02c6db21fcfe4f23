/**
 * The local stack's X-Ray daemon: a UDP listener on 127.0.0.1 (default port 2000, as the daemon's own
 * default `Socket.UDPAddress`) that reads the daemon protocol (segment.ts) and keeps what it receives in
 * a TraceStore instead of uploading it with PutTraceSegments.
 */
import { createSocket } from 'node:dgram';
import { decodeDatagram, MAX_DATAGRAM_BYTES } from './segment';
import type { TraceStore } from './store';

export const DEFAULT_DAEMON_PORT = 2000;

export interface XRayDaemon {
  /** `127.0.0.1:<port>`, the form AWS_XRAY_DAEMON_ADDRESS takes. */
  address: string;
  host: string;
  port: number;
  /** Datagrams received and dropped (bad header, not JSON, not a segment). */
  stats(): { received: number; rejected: number };
  close(): Promise<void>;
}

export async function startXRayDaemon(
  store: TraceStore,
  options: { port?: number; host?: string } = {},
): Promise<XRayDaemon> {
  const host = options.host ?? '127.0.0.1';
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * MAX_DATAGRAM_BYTES });
  let received = 0;
  let rejected = 0;
  socket.on('message', (datagram) => {
    received += 1;
    const document = decodeDatagram(datagram);
    if (document === undefined || !store.add(document)) rejected += 1;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? DEFAULT_DAEMON_PORT, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return {
    address: `${host}:${port}`,
    host,
    port,
    stats: () => ({ received, rejected }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
