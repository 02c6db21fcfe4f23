/**
 * Counts what the DynamoDB-API server receives, per table and operation: requests, the conditional
 * writes it refused, and the capacity units it reported (`ConsumedCapacity`, answered to requests
 * that ask with `ReturnConsumedCapacity`). It watches the server's HTTP traffic without changing a
 * byte of it, so it knows nothing of credentials or of what IAM allows. The bench and
 * tests/integration/request-count.test.ts read it to hold "one request per finding"; a caller takes
 * a reading before and after the work it measures (`meterDifference`).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface OperationTally {
  requests: number;
  /** Conditional writes answered ConditionalCheckFailedException (DynamoDB still charges them write units). */
  conditionalCheckFailed: number;
  /** Sum of `ConsumedCapacity.CapacityUnits` the server answered (successful requests that asked for it). */
  capacityUnits: number;
}

/**
 * table name (or `-` when a request names none or several) → operation → tally. DynamoDB Streams calls count under
 * `<table>/stream` (the stream is not the table: reading it is no request on the table).
 */
export type MeterReading = Record<string, Record<string, OperationTally>>;

/** The operation an `X-Amz-Target: DynamoDB_20120810.UpdateItem` header names. */
const operationOf = (target: string | string[] | undefined) =>
  String(target ?? '').replace(/^DynamoDB(Streams)?_\d+\./, '');
const isStreamsCall = (target: string | string[] | undefined) => String(target ?? '').startsWith('DynamoDBStreams_');

/** The stream's table of a Streams API request: from its StreamArn, its shard iterator (which begins with it) or TableName. */
function streamTableOf(body: string): string {
  const table =
    /:table\/([A-Za-z0-9_.-]{1,255})\/stream\//.exec(body)?.[1] ??
    /"TableName"\s*:\s*"([A-Za-z0-9_.-]{1,255})"/.exec(body)?.[1];
  return table === undefined ? '-/stream' : `${table}/stream`;
}

/** The request's table: `"TableName":"…"` where it has one (BatchWriteItem and BatchGetItem name theirs as keys). */
function tableOf(body: string): string {
  const match = /"TableName"\s*:\s*"([A-Za-z0-9_.-]{1,255})"/.exec(body);
  if (match?.[1]) return match[1];
  try {
    const tables = Object.keys((JSON.parse(body) as { RequestItems?: object }).RequestItems ?? {});
    return tables.length === 1 ? (tables[0] as string) : '-';
  } catch {
    return '-';
  }
}

const CAPACITY_MEMBER = Buffer.from('"ConsumedCapacity"');
const CONDITION_FAILED = Buffer.from('ConditionalCheckFailedException');

/**
 * The end of the JSON value that starts at `start` (an object or a list): brackets counted outside strings.
 * An answer's `ConsumedCapacity` is a few dozen bytes after items that can be large (a Query page, ALL_OLD):
 * only that value is parsed.
 */
function valueEnd(body: Buffer, start: number): number {
  let depth = 0;
  let inString = false;
  for (let index = start; index < body.length; index += 1) {
    const byte = body[index];
    if (inString) {
      if (byte === 0x5c) index += 1;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) depth += 1;
    else if ((byte === 0x7d || byte === 0x5d) && --depth === 0) return index + 1;
  }
  return -1;
}

/** `ConsumedCapacity` of an answer: one object, or a list (batch operations). */
function capacityOf(body: Buffer): number {
  const member = body.lastIndexOf(CAPACITY_MEMBER);
  if (member < 0) return 0;
  let start = member + CAPACITY_MEMBER.length;
  while (start < body.length && body[start] !== 0x7b && body[start] !== 0x5b) start += 1;
  const end = valueEnd(body, start);
  if (end < 0) return 0;
  try {
    const capacity = JSON.parse(body.subarray(start, end).toString('utf8')) as unknown;
    const entries = (Array.isArray(capacity) ? capacity : [capacity]) as ({ CapacityUnits?: number } | undefined)[];
    return entries.reduce((sum, entry) => sum + (entry?.CapacityUnits ?? 0), 0);
  } catch {
    return 0;
  }
}

export class RequestMeter {
  private readonly tallies: MeterReading = {};

  record(table: string, operation: string, answer: { status: number; body: Buffer }): void {
    const byOperation = (this.tallies[table] ??= {});
    const tally = (byOperation[operation] ??= { requests: 0, conditionalCheckFailed: 0, capacityUnits: 0 });
    tally.requests += 1;
    if (answer.status === 400 && answer.body.includes(CONDITION_FAILED)) tally.conditionalCheckFailed += 1;
    else tally.capacityUnits += capacityOf(answer.body);
  }

  reading(): MeterReading {
    return JSON.parse(JSON.stringify(this.tallies)) as MeterReading;
  }

  /**
   * Watches `server`'s requests: its own request listener still reads the body and answers; this one
   * reads along and sees the answer's body as it is sent.
   */
  watch(server: Server): void {
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      const operation = operationOf(request.headers['x-amz-target']);
      const streams = isStreamsCall(request.headers['x-amz-target']);
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      const sent: Buffer[] = [];
      const write = response.write.bind(response) as (...args: unknown[]) => boolean;
      const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
      const keep = (chunk: unknown) => {
        if (typeof chunk === 'string' || chunk instanceof Uint8Array) sent.push(Buffer.from(chunk));
      };
      response.write = ((chunk: unknown, ...rest: unknown[]) => {
        keep(chunk);
        return write(chunk, ...rest);
      }) as typeof response.write;
      response.end = ((chunk?: unknown, ...rest: unknown[]) => {
        if (typeof chunk !== 'function') keep(chunk);
        if (operation !== '')
          this.record((streams ? streamTableOf : tableOf)(Buffer.concat(chunks).toString()), operation, {
            status: response.statusCode,
            body: Buffer.concat(sent),
          });
        return end(chunk, ...rest);
      }) as typeof response.end;
    });
  }
}

/** What happened between two readings: `after` minus `before`, operations that saw no request left out. */
export function meterDifference(before: MeterReading, after: MeterReading): MeterReading {
  const difference: MeterReading = {};
  for (const [table, operations] of Object.entries(after)) {
    for (const [operation, tally] of Object.entries(operations)) {
      const earlier = before[table]?.[operation] ?? { requests: 0, conditionalCheckFailed: 0, capacityUnits: 0 };
      if (tally.requests === earlier.requests) continue;
      (difference[table] ??= {})[operation] = {
        requests: tally.requests - earlier.requests,
        conditionalCheckFailed: tally.conditionalCheckFailed - earlier.conditionalCheckFailed,
        capacityUnits: Math.round((tally.capacityUnits - earlier.capacityUnits) * 1000) / 1000,
      };
    }
  }
  return difference;
}

/** Requests of `table` in a reading, every operation together (or only `operations`). */
export function requestsOf(reading: MeterReading, table: string, operations?: string[]): number {
  return Object.entries(reading[table] ?? {})
    .filter(([operation]) => operations === undefined || operations.includes(operation))
    .reduce((sum, [, tally]) => sum + tally.requests, 0);
}
