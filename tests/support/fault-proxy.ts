/**
 * An HTTP proxy in front of the local DynamoDB server that injects the failures a real dependency
 * has, so tests see how the real code and state machine handle them (retries, then 503) without any
 * mock in the product: DynamoDB's throttling error, an HTTP 500 `InternalServerError`, a connection
 * reset mid-request, and the server gone (nothing listening, then back on the same port).
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * - `throttle`: HTTP 400 `ProvisionedThroughputExceededException`, as DynamoDB answers over capacity.
 * - `server-error`: HTTP 500 `InternalServerError`, DynamoDB's own 5xx.
 * - `reset`: the connection is destroyed without an answer (ECONNRESET / socket hang up).
 * - `hang`: no answer at all until `releaseHeld()` drops the connection: a dependency that stopped answering,
 *   which holds the calling function until its timeout (Sandbox.Timedout).
 * - `trimmed`: HTTP 400 `TrimmedDataAccessException`, DynamoDB Streams' answer to an iterator whose record was
 *   trimmed (older than 24 hours) before the iterator was used.
 */
export type Fault = 'throttle' | 'server-error' | 'reset' | 'hang' | 'trimmed';

export interface FaultProxy {
  endpoint: string;
  target: string;
  /** DynamoDB and DynamoDB Streams operations (e.g. 'UpdateItem', 'GetRecords', or '*' for all) to fail while set. */
  failing: Set<string>;
  /** How a failing request fails (default `throttle`). */
  fault: Fault;
  /** Fail only every n-th matching request (default 1: all of them), so retries can get through. */
  failEvery: number;
  /** How many more requests may be failed (default unlimited): a burst of faults that then passes. */
  budget: number;
  /** How many requests each operation received. */
  counts: Map<string, number>;
  /** How many requests were failed on purpose. */
  injected: number;
  /** Drops the connections of the requests `hang` holds (their callers see a reset and may retry). */
  releaseHeld(): void;
  /** Stops listening and drops every open connection: callers see connection refused / reset. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const DYNAMODB_ERRORS = {
  throttle: { status: 400, type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException' },
  'server-error': { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError' },
  trimmed: { status: 400, type: 'com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException' },
} as const;

export async function startFaultProxy(): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const held = new Set<Socket>();
  let matching = 0;
  let port = 0;
  const proxy: FaultProxy = {
    endpoint: '',
    target: '',
    failing: new Set(),
    fault: 'throttle',
    failEvery: 1,
    budget: Number.POSITIVE_INFINITY,
    counts: new Map(),
    injected: 0,
    releaseHeld: () => {
      for (const socket of held) socket.destroy();
      held.clear();
    },
    stop: async () => undefined,
    start: async () => undefined,
    close: async () => undefined,
  };
  const server = createServer((incoming, outgoing) => {
    const operation = String(incoming.headers['x-amz-target'] ?? '').replace(/^DynamoDB(?:Streams)?_\d+\./, '');
    proxy.counts.set(operation, (proxy.counts.get(operation) ?? 0) + 1);
    if ((proxy.failing.has(operation) || proxy.failing.has('*')) && proxy.budget > 0) {
      matching += 1;
      if (matching % Math.max(1, proxy.failEvery) === 0) {
        proxy.injected += 1;
        proxy.budget -= 1;
        if (proxy.fault === 'reset') {
          incoming.socket.destroy();
          return;
        }
        if (proxy.fault === 'hang') {
          incoming.resume();
          held.add(incoming.socket);
          return;
        }
        const { status, type } = DYNAMODB_ERRORS[proxy.fault];
        incoming.resume();
        outgoing.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
        outgoing.end(JSON.stringify({ __type: type, message: 'injected by the test' }));
        return;
      }
    }
    const target = new URL(proxy.target);
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  await listen();
  port = (server.address() as AddressInfo).port;
  proxy.endpoint = `http://127.0.0.1:${port}`;
  proxy.stop = stop;
  proxy.start = listen;
  proxy.close = stop;
  return proxy;
}
