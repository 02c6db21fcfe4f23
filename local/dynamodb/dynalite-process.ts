/**
 * The DynamoDB-API server's own process (forked by server.ts), so dynalite's request parsing and
 * LevelDB work run on another core than the gateway, the interpreter and the functions. Talks to
 * its parent over the IPC channel: it says where it listens, reports its peak memory, and stops on
 * request or when the parent goes away.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyDynaliteConformance } from './dynalite-conformance';
import { RequestMeter, type MeterReading } from './request-meter';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export interface DynaliteProcessOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  path?: string;
}
export type ParentMessage = { type: 'close' } | { type: 'memory' } | { type: 'requests' };
export type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'error'; message: string }
  | { type: 'memory'; maxRssBytes: number }
  | { type: 'requests'; reading: MeterReading };

const send = (message: ChildMessage) => process.send?.(message);
const options = JSON.parse(process.argv[2] ?? '{}') as DynaliteProcessOptions;
applyDynaliteConformance();
const server = dynalite({
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
  ...(options.path ? { path: options.path } : {}),
});
const meter = new RequestMeter();
meter.watch(server);
server.once('error', (error: Error) => {
  send({ type: 'error', message: error.message });
  process.exit(1);
});
server.listen(options.port, options.host ?? '127.0.0.1', () =>
  send({ type: 'listening', port: (server.address() as AddressInfo).port }),
);

const stop = () => server.close(() => process.exit(0));
process.on('message', (message: ParentMessage) => {
  if (message.type === 'close') stop();
  else if (message.type === 'requests') send({ type: 'requests', reading: meter.reading() });
  else send({ type: 'memory', maxRssBytes: process.resourceUsage().maxRSS * 1024 });
});
process.on('disconnect', stop);
