/**
 * What ingestion costs DynamoDB, counted by the local DynamoDB-API server's request meter
 * (local/dynamodb/request-meter.ts): one request per finding on the findings table for each common
 * case (new, updated, unchanged, stale), whatever the batch; and, stated here, a reopen, the close of
 * a run and a GET page. Runs on dynalite and, in .ci/run, on DynamoDB Local.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { ScanRunClient } from '../../client/push/scan-run';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-local';
import { meterDifference, requestsOf, type MeterReading } from '../../local/dynamodb/request-meter';
import { REFERENCE_FINDING } from '../../local/seed';
import { startTestStack, type TestStack } from '../support/local-stack';

const ORG = 'org3';
const SIZE = 20;
const MONDAY = '2026-03-02T09:00:00.000Z';
const LAST_WEEK = '2026-02-23T09:00:00.000Z';
const NEXT_MONDAY = '2026-03-09T09:00:00.000Z';
const MONDAY_AFTER = '2026-03-16T09:00:00.000Z';
const RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };

let stack: TestStack;
let runs: ScanRunClient;

beforeAll(async () => {
  stack = await startTestStack();
  runs = new ScanRunClient({ url: stack.url, identity: stack.pki.scanner, caPem: stack.pki.ca.certPem, retry: RETRY });
}, 90_000);

afterAll(async () => {
  await stack?.close();
});

const batch = (prefix: string) =>
  Array.from({ length: SIZE }, (_, index) => ({
    ...REFERENCE_FINDING,
    Org: ORG,
    VulnID: `${prefix}-${index}`,
    AssetName: 'metered.example.com',
  }));

/** The findings-table requests `work` caused, by operation, and its answer. */
async function metered<T>(work: () => Promise<T>): Promise<{ answer: T; findings: MeterReading[string] }> {
  const before = await stack.stack.backend.dynamoDbRequests();
  const answer = await work();
  const difference = meterDifference(before, await stack.stack.backend.dynamoDbRequests());
  return { answer, findings: difference[stack.tables.FindingsTable] ?? {} };
}

async function post(body: unknown): Promise<Record<string, unknown>> {
  const answer = await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body });
  expect(answer.status).toBe(200);
  return answer.json() as Record<string, unknown>;
}

const openRun = (scannedAt: string, assets?: string[]) =>
  runs.open({ org: ORG, scanner: 'nessus', scannedAt, ...(assets ? { scope: { assets } } : {}) });

const total = (findings: MeterReading[string]) => requestsOf({ t: findings }, 't');

describe('one request per finding', () => {
  it('new findings (without a run): one UpdateItem each, no read', async () => {
    const { answer, findings } = await metered(() => post({ findings: batch('plain') }));
    expect(answer).toMatchObject({ created: SIZE });
    expect(findings).toEqual({ UpdateItem: expect.objectContaining({ requests: SIZE, conditionalCheckFailed: 0 }) });
  });

  it('updated findings (the same batch again, a later request time): one UpdateItem each', async () => {
    const { answer, findings } = await metered(() => post({ findings: batch('plain') }));
    expect(answer).toMatchObject({ created: 0, updated: SIZE });
    expect(findings).toEqual({ UpdateItem: expect.objectContaining({ requests: SIZE, conditionalCheckFailed: 0 }) });
  });

  describe('in scan runs', () => {
    it('new in a run, then unchanged in a second run of the same scan time: one request each', async () => {
      const first = await openRun(MONDAY);
      const created = await metered(() => post({ runId: first.runId, findings: batch('run') }));
      expect(created.answer).toMatchObject({ created: SIZE });
      expect(total(created.findings)).toBe(SIZE);

      const second = await openRun(MONDAY);
      const unchanged = await metered(() => post({ runId: second.runId, findings: batch('run') }));
      expect(unchanged.answer).toMatchObject({ unchanged: SIZE, created: 0, updated: 0 });
      expect(unchanged.findings).toEqual({
        UpdateItem: expect.objectContaining({ requests: SIZE, conditionalCheckFailed: 0 }),
      });
    });

    it('stale (an older scan): one refused UpdateItem each, which carries the item, so no read', async () => {
      const older = await openRun(LAST_WEEK);
      const { answer, findings } = await metered(() => post({ runId: older.runId, findings: batch('run') }));
      expect(answer).toMatchObject({ stale: SIZE, created: 0, updated: 0, unchanged: 0 });
      expect(findings).toEqual({
        UpdateItem: expect.objectContaining({ requests: SIZE, conditionalCheckFailed: SIZE }),
      });
    });

    it('states the rest: a close is one Query page and one UpdateItem per finding closed; a reopen two UpdateItems', async () => {
      // A run that covers the asset and reports nothing closes what it did not see.
      const closing = await openRun(NEXT_MONDAY, ['metered.example.com']);
      const closed = await metered(async () => {
        await runs.complete(closing.runId);
        return runs.waitForClosed(closing.runId, ORG, { maxPolls: 200, intervalMs: 25 });
      });
      expect(closed.answer.counts.fixed).toBe(SIZE);
      expect(closed.findings).toEqual({
        Query: expect.objectContaining({ requests: 1 }),
        UpdateItem: expect.objectContaining({ requests: SIZE, conditionalCheckFailed: 0 }),
      });

      const again = await openRun(MONDAY_AFTER);
      const reopened = await metered(() => post({ runId: again.runId, findings: batch('run') }));
      expect(reopened.answer).toMatchObject({ updated: SIZE, reopened: SIZE });
      // The upsert is refused by the FIXED finding it carries back; the reopen is written on condition.
      expect(reopened.findings).toEqual({
        UpdateItem: expect.objectContaining({ requests: 2 * SIZE, conditionalCheckFailed: SIZE }),
      });
    });
  });

  it('a GET page is one Query of the findings table', async () => {
    const { answer, findings } = await metered(() =>
      stack.request(stack.pki.dashboard, { path: `/vuln?org=${ORG}&limit=${SIZE}&status=ALL` }),
    );
    expect(answer.status).toBe(200);
    expect((answer.json() as { items: unknown[] }).items).toHaveLength(SIZE);
    expect(findings).toEqual({ Query: expect.objectContaining({ requests: 1 }) });
  });
});

describe('the findings table’s stream (NEW_AND_OLD_IMAGES, template.yaml)', () => {
  it('records each changed finding with its old and new image, and is read without a findings-table request', async () => {
    const streams = new DynamoDBStreamsClient({
      endpoint: stack.stack.backend.dynamoDbEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      const arn = stack.stack.backend.resolver.resolve({ 'Fn::GetAtt': ['FindingsTable', 'StreamArn'] }) as string;
      expect(arn).toMatch(/:table\/FindingsTable\/stream\/.+$/);
      const shardId = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription?.Shards?.[0]
        ?.ShardId;
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ShardIteratorType: 'LATEST' }),
      );
      const finding = { ...REFERENCE_FINDING, Org: ORG, VulnID: 'streamed-1', AssetName: 'metered.example.com' };
      const written = await metered(async () => {
        await post({ findings: [finding] });
        await post({ findings: [{ ...finding, PluginName: 'Renamed by the scanner' }] });
        await stack.stack.drainStreams();
        return (await streams.send(new GetRecordsCommand({ ShardIterator }))).Records ?? [];
      });
      expect(written.findings).toEqual({ UpdateItem: expect.objectContaining({ requests: 2 }) });
      expect(written.answer.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY']);
      const [, modify] = written.answer;
      expect(modify?.dynamodb?.OldImage?.PluginName).toEqual({ S: REFERENCE_FINDING.PluginName });
      expect(modify?.dynamodb?.NewImage?.PluginName).toEqual({ S: 'Renamed by the scanner' });
    } finally {
      streams.destroy();
    }
  });
});
