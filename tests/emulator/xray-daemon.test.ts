/** The local X-Ray daemon: the daemon protocol as aws-xray-daemon reads it, the bounded store, the allow-list. */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDatagram, sanitizeSegment, type SegmentDocument } from '../../local/xray/segment';
import { TraceStore } from '../../local/xray/store';
import {
  formatTraceHeader,
  lambdaTraceEnvironment,
  newSegmentId,
  newTraceId,
  parseTraceHeader,
} from '../../local/xray/trace-header';
import { startLocalTracing, type LocalTracing } from '../../local/xray/tracing';
import { completeTrace } from '../support/traces';

const segment = (overrides: Partial<SegmentDocument> = {}): SegmentDocument => ({
  name: 'example',
  id: newSegmentId(),
  trace_id: newTraceId(),
  start_time: Date.now() / 1000,
  end_time: Date.now() / 1000 + 0.01,
  ...overrides,
});

describe('the daemon protocol over UDP', () => {
  let tracing: LocalTracing;
  const socket = createSocket('udp4');
  const send = (datagram: Buffer | string) =>
    new Promise<void>((resolve, reject) =>
      socket.send(datagram, tracing.daemon.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );

  beforeAll(async () => {
    tracing = await startLocalTracing({ daemonPort: 0 });
  });
  afterAll(async () => {
    socket.close();
    await tracing?.close();
  });

  it('listens on loopback and gives its address in the AWS_XRAY_DAEMON_ADDRESS form', () => {
    expect(tracing.daemon.address).toBe(`127.0.0.1:${tracing.daemon.port}`);
  });

  it('keeps a segment sent after the header line, and a subsegment sent on its own under its parent', async () => {
    const parent = segment({ in_progress: true, end_time: undefined });
    await send(encodeDatagram(parent));
    const child = {
      name: '## handler',
      id: newSegmentId(),
      trace_id: parent.trace_id,
      parent_id: parent.id,
      type: 'subsegment' as const,
      start_time: parent.start_time,
      end_time: parent.start_time + 0.005,
    };
    await send(`{"format": "json", "version": 1}\n${JSON.stringify(child)}`);
    await send(encodeDatagram({ ...parent, in_progress: undefined, end_time: parent.start_time + 0.01 }));
    const trace = await completeTrace(tracing.store, parent.trace_id, 2);
    expect(trace.documents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: parent.id, end_time: parent.start_time + 0.01 }),
        expect.objectContaining({ id: child.id, parent_id: parent.id, type: 'subsegment' }),
      ]),
    );
    expect(trace.documents.some((document) => document.in_progress)).toBe(false);
  });

  it.each([
    ['another protocol version', `{"format":"json","version":2}\n${JSON.stringify(segment())}`],
    ['no header line', JSON.stringify(segment())],
    ['a header and nothing after it', '{"format":"json","version":1}\n'],
    ['a body that is not JSON', '{"format":"json","version":1}\n{not json'],
    ['a segment without an id', `{"format":"json","version":1}\n${JSON.stringify({ ...segment(), id: undefined })}`],
    ['a malformed trace id', `{"format":"json","version":1}\n${JSON.stringify(segment({ trace_id: '1-xyz' }))}`],
  ])('drops %s, as the daemon does', async (_name, datagram) => {
    const before = tracing.daemon.stats();
    await send(datagram);
    for (let poll = 0; poll < 100 && tracing.daemon.stats().received === before.received; poll += 1)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tracing.daemon.stats()).toEqual({ received: before.received + 1, rejected: before.rejected + 1 });
  });
});

describe('the trace store', () => {
  it('keeps the newest N traces, on disk too, and reads them back after a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'traces-'));
    try {
      const store = new TraceStore({ dir, maxTraces: 3 });
      const traces = [1, 2, 3, 4, 5].map((second) => segment({ start_time: 1_700_000_000 + second }));
      for (const document of traces) store.add(document);
      const kept = traces.slice(2).map((document) => document.trace_id);
      expect(store.all().map((trace) => trace.traceId)).toEqual([...kept].reverse());
      expect(readdirSync(dir).sort()).toEqual(kept.map((traceId) => `${traceId}.json`).sort());
      expect(new TraceStore({ dir, maxTraces: 3 }).all().map((trace) => trace.traceId)).toEqual([...kept].reverse());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never lets a late in-progress copy overwrite a completed segment', () => {
    const store = new TraceStore();
    const complete = segment();
    store.add(complete);
    store.add({ ...complete, end_time: undefined, in_progress: true });
    expect(store.get(complete.trace_id)?.documents).toEqual([expect.objectContaining({ end_time: complete.end_time })]);
  });
});

describe('what a stored segment may hold', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

  it('keeps only the allowed fields: no body, no metadata beyond request ids, no stack, no unknown fields', () => {
    const stored = sanitizeSegment({
      ...segment(),
      body: '{"findings":[]}',
      sql: { url: 'x' },
      user: 'someone',
      http: {
        request: { method: 'POST', url: 'https://localhost/vuln', body: 'secret' },
        response: { status: 200, headers: { a: 'b' } },
      },
      metadata: { default: { request_id: 'r1', certPem: pem }, 'vulnerability-api': { response: { items: [] } } },
      annotations: { org: 'org1', findingCount: 2, ok: true, nested: { no: 1 }, 'bad key': 'x', principalOu: pem },
      cause: {
        working_directory: '/srv',
        paths: ['/srv/a.ts'],
        exceptions: [
          { id: 'abc', type: 'ValidationError', message: 'Invalid request', stack: [{ path: '/srv/a.ts', line: 3 }] },
        ],
      },
      aws: {
        table_name: 'Findings',
        operation: 'Query',
        item: { Org: 'org1' },
        xray: { sdk: 'X-Ray for Node.js', package: 'x' },
      },
      subsegments: [
        {
          name: 'DynamoDB',
          id: newSegmentId(),
          start_time: 1,
          end_time: 2,
          namespace: 'aws',
          sql: { sanitized_query: 'x' },
        },
      ],
    });
    expect(stored).toEqual({
      name: 'example',
      id: expect.any(String),
      trace_id: expect.any(String),
      start_time: expect.any(Number),
      end_time: expect.any(Number),
      http: { request: { method: 'POST', url: 'https://localhost/vuln' }, response: { status: 200 } },
      metadata: { default: { request_id: 'r1' } },
      annotations: { org: 'org1', findingCount: 2, ok: true, principalOu: '[redacted]' },
      cause: { exceptions: [{ id: 'abc', type: 'ValidationError', message: 'Invalid request' }] },
      aws: { table_name: 'Findings', operation: 'Query', xray: { sdk: 'X-Ray for Node.js' } },
      subsegments: [{ name: 'DynamoDB', id: expect.any(String), start_time: 1, end_time: 2, namespace: 'aws' }],
    });
    expect(JSON.stringify(stored)).not.toContain('BEGIN');
  });

  it('bounds strings to 250 characters', () => {
    expect(sanitizeSegment({ ...segment(), annotations: { org: 'o'.repeat(1000) } })?.annotations?.org).toHaveLength(
      250,
    );
  });
});

describe('trace headers and the Lambda seam', () => {
  it('reads Root, Parent and Sampled, and drops what is malformed', () => {
    expect(parseTraceHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toEqual({
      root: '1-5759e988-bd862e3fe1be46a994272793',
      parent: '53995c3f42cd8ad8',
      sampled: true,
    });
    expect(parseTraceHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=<b>;Sampled=yes')).toEqual({
      root: '1-5759e988-bd862e3fe1be46a994272793',
    });
    expect(parseTraceHeader('Root=<script>')).toBeUndefined();
    expect(parseTraceHeader(undefined)).toBeUndefined();
  });

  it('gives the variables Lambda sets for a traced invocation', () => {
    const header = formatTraceHeader({
      root: '1-5759e988-bd862e3fe1be46a994272793',
      parent: '53995c3f42cd8ad8',
      sampled: true,
    });
    expect(lambdaTraceEnvironment(header, '127.0.0.1:2000')).toEqual({
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    });
    expect(() => lambdaTraceEnvironment('Root=1-5759e988-bd862e3fe1be46a994272793', '127.0.0.1:2000')).toThrow(
      /Parent/,
    );
  });

  it('makes trace ids from the epoch second and 96 random bits', () => {
    expect(newTraceId(Date.UTC(2016, 5, 9, 21, 11, 4))).toMatch(/^1-5759db68-[0-9a-f]{24}$/);
  });
});
