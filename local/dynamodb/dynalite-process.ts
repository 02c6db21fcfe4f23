/**
 * The DynamoDB-API server's own process (forked by server.ts), so dynalite's request parsing and
 * LevelDB work run on another core than the gateway, the interpreter and the functions. Talks to
 * its parent over the IPC channel: it says where it listens, reports its peak memory, and stops on
 * request or when the parent goes away.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { applyDynaliteConformance } from './dynalite-conformance';
import { applyDynaliteStreams } from './dynalite-streams';
import { RequestMeter, type MeterReading } from './request-meter';
import { dynamoDbCall } from '../iam/calls';
import { callerOf } from '../iam/credentials';
import { IamGate, type Denial } from '../iam/gate';
import type { StackIam } from '../iam/stack-iam';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export interface DynaliteProcessOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  path?: string;
}
export type ParentMessage =
  { type: 'close' } | { type: 'memory' } | { type: 'requests' } | { type: 'iam'; stack: StackIam };
export type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'error'; message: string }
  | { type: 'memory'; maxRssBytes: number }
  | { type: 'iam-enforced' }
  | { type: 'denial'; denial: Denial }
  | { type: 'requests'; reading: MeterReading };

const send = (message: ChildMessage) => process.send?.(message);
const options = JSON.parse(process.argv[2] ?? '{}') as DynaliteProcessOptions;
applyDynaliteConformance();
const streams = applyDynaliteStreams();
const server = dynalite({
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
  ...(options.path ? { path: options.path } : {}),
});
server.once('error', (error: Error) => {
  send({ type: 'error', message: error.message });
  process.exit(1);
});
server.listen(options.port, options.host ?? '127.0.0.1', () =>
  send({ type: 'listening', port: (server.address() as AddressInfo).port }),
);

/**
 * IAM in front of dynalite (local/iam/gate.ts), once the parent sends the stack's documents: the action and
 * the tables come from the request itself (X-Amz-Target, TableName / RequestItems / TransactItems). A denied
 * call answers as DynamoDB does (HTTP 400, AccessDeniedException naming the action and resource); a function in
 * the VPC without a route to DynamoDB gets no answer at all (the connection drops, as a blackholed route fails).
 */
let gate: IamGate | undefined;
const dynaliteHandler = server.listeners('request')[0] as RequestListener;
server.removeAllListeners('request');

function answerJson(response: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

function refuse(response: ServerResponse, type: string, message: string): void {
  answerJson(response, 400, { __type: `com.amazon.coral.service#${type}`, message });
}

// Read with 'data' events, as the request meter does: an async iterator beside a 'data' listener stalls the body.
const readBody = (request: IncomingMessage) =>
  new Promise<Buffer>((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolveBody(Buffer.concat(chunks)));
    request.once('error', reject);
  });

const parseBody = (body: Buffer): Record<string, unknown> => {
  try {
    return JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    // dynalite answers the malformed body itself, once IAM has had its say on the operation.
    return {};
  }
};

/** The Streams API and UpdateTable's StreamSpecification are answered here (dynalite-streams.ts); the rest by dynalite. */
const streamsAnswers = (target: string) => target.startsWith('DynamoDBStreams_') || target.endsWith('.UpdateTable');

async function serve(request: IncomingMessage, response: ServerResponse, read?: Buffer): Promise<void> {
  const target = String(request.headers['x-amz-target'] ?? '');
  let body = read;
  if (streamsAnswers(target)) {
    body ??= await readBody(request);
    const answer = await streams.answer(target, parseBody(body));
    if (answer) return answerJson(response, answer.status, answer.payload);
  }
  if (body === undefined) return void dynaliteHandler(request, response);
  const replay = Object.assign(Readable.from(body.length ? [body] : []), {
    headers: request.headers,
    method: request.method,
    url: request.url,
  });
  dynaliteHandler(replay as unknown as IncomingMessage, response);
}

async function enforce(iam: IamGate, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const caller = callerOf(request.headers.authorization);
  if (caller.kind === 'operator') return serve(request, response);
  const body = await readBody(request);
  const verdict = await iam.check(
    caller,
    dynamoDbCall(String(request.headers['x-amz-target'] ?? ''), parseBody(body), iam.stack),
  );
  if (verdict.kind === 'unreachable') return void request.socket.destroy();
  if (verdict.kind === 'denied') return refuse(response, verdict.code, verdict.message);
  return serve(request, response, body);
}

server.on('request', (request: IncomingMessage, response: ServerResponse) => {
  (gate ? enforce(gate, request, response) : serve(request, response)).catch(() => {
    if (!response.headersSent) refuse(response, 'InternalServerError', 'Internal server error');
  });
});
// The meter watches what reaches the server, IAM refusals included (it prepends its own listener to the one above).
const meter = new RequestMeter();
meter.watch(server);

const stop = () => server.close(() => process.exit(0));
process.on('message', (message: ParentMessage) => {
  if (message.type === 'close') stop();
  else if (message.type === 'iam') {
    const enforcing = new IamGate(message.stack, (denial) => send({ type: 'denial', denial }));
    void enforcing.warm(['dynamodb', 'kms']).then(() => {
      gate = enforcing;
      send({ type: 'iam-enforced' });
    });
  } else if (message.type === 'requests') send({ type: 'requests', reading: meter.reading() });
  else send({ type: 'memory', maxRssBytes: process.resourceUsage().maxRSS * 1024 });
});
process.on('disconnect', stop);
