/**
 * DynamoDB Streams on the local DynamoDB-API server (local/dynamodb/streams.ts, dynalite-streams.ts) against the
 * Amazon DynamoDB Streams API Reference and "Change data capture for DynamoDB Streams" (DynamoDB Developer Guide).
 * The API tests run on dynalite and, with LOCAL_DYNAMODB=dynamodb-local (.ci/run), on Amazon's DynamoDB Local, which
 * has streams natively: both must answer alike. Retention and iterator expiry are held on the stream store with a
 * clock of its own (a day cannot be waited for).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type _Record as StreamRecord,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-local';
import { meterDifference, requestsOf } from '../../local/dynamodb/request-meter';
import type { CfnTemplate } from '../../local/cloudformation/template';
import {
  createTablesFromTemplate,
  localDynamoDbClient,
  startDynamoDb,
  type LocalDynamoDb,
} from '../../local/dynamodb/server';
import { RETENTION_MS, StreamStore, type StreamedTable } from '../../local/dynamodb/streams';

const TABLE = 'Streamed';
let server: LocalDynamoDb;
let client: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let streamArn: string;
let shardId: string;

beforeAll(async () => {
  server = await startDynamoDb({ port: 0 });
  client = localDynamoDbClient(server.endpoint);
  streams = new DynamoDBStreamsClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const created = await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [
        { AttributeName: 'Org', AttributeType: 'S' },
        { AttributeName: 'VulnID', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'Org', KeyType: 'HASH' },
        { AttributeName: 'VulnID', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  streamArn = created.TableDescription?.LatestStreamArn as string;
  const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  shardId = described.StreamDescription?.Shards?.[0]?.ShardId as string;
}, 90_000);

afterAll(async () => {
  streams?.destroy();
  client?.destroy();
  await server?.close();
});

const key = (vuln: string) => ({ Org: { S: 'org1' }, VulnID: { S: vuln } });
const iterator = async (type: ShardIteratorType, sequenceNumber?: string) =>
  (
    await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}),
      }),
    )
  ).ShardIterator as string;

/** Every record from `from` on, following NextShardIterator until a page comes back empty. */
async function readAll(from: string, limit?: number): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  let next: string | undefined = from;
  while (next) {
    const page: GetRecordsCommandOutput = await streams.send(
      new GetRecordsCommand({ ShardIterator: next, ...(limit ? { Limit: limit } : {}) }),
    );
    records.push(...(page.Records ?? []));
    if (!page.Records?.length) break;
    next = page.NextShardIterator;
  }
  return records;
}
const sequence = (record: StreamRecord) => BigInt(record.dynamodb?.SequenceNumber as string);

test('CreateTable and DescribeTable answer the stream: ARN table/NAME/stream/LABEL, one enabled shard', async () => {
  expect(streamArn).toMatch(/^arn:aws:dynamodb:[^:]+:\d{12}:table\/Streamed\/stream\/.+$/);
  const table = (await client.send(new DescribeTableCommand({ TableName: TABLE }))).Table;
  expect(table?.LatestStreamArn).toBe(streamArn);
  expect(streamArn.endsWith(`/stream/${table?.LatestStreamLabel}`)).toBe(true);
  expect(table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  const listed = await streams.send(new ListStreamsCommand({ TableName: TABLE }));
  expect(listed.Streams).toEqual([{ StreamArn: streamArn, StreamLabel: table?.LatestStreamLabel, TableName: TABLE }]);
  const described = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription;
  expect(described).toMatchObject({ StreamStatus: 'ENABLED', StreamViewType: 'NEW_AND_OLD_IMAGES', TableName: TABLE });
});

describe('records of committed changes', () => {
  let records: StreamRecord[];
  let start: string;
  beforeAll(async () => {
    start = await iterator('LATEST');
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('v-1'), Status: { S: 'OPEN' } } }));
    // Identical put and an update that sets what is there: no change, no record.
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('v-1'), Status: { S: 'OPEN' } } }));
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key('v-1'),
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'Status' },
        ExpressionAttributeValues: { ':s': { S: 'OPEN' } },
      }),
    );
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key('v-1'),
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'Status' },
        ExpressionAttributeValues: { ':s': { S: 'FIXED' } },
      }),
    );
    // A refused conditional write changes nothing.
    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { ...key('v-1'), Status: { S: 'GONE' } },
          ConditionExpression: 'attribute_not_exists(Org)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { [TABLE]: [{ PutRequest: { Item: { ...key('v-2'), Status: { S: 'OPEN' } } } }] },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key('v-1') }));
    // Deleting what is not there removes nothing.
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key('v-404') }));
    records = await readAll(start);
  });

  test('INSERT, MODIFY, REMOVE with keys and old and new images, nothing for writes that changed nothing', () => {
    expect(records.map((record) => [record.eventName, record.dynamodb?.Keys?.VulnID?.S])).toEqual([
      ['INSERT', 'v-1'],
      ['MODIFY', 'v-1'],
      ['INSERT', 'v-2'],
      ['REMOVE', 'v-1'],
    ]);
    const [insert, modify, , remove] = records;
    expect(insert?.dynamodb?.OldImage).toBeUndefined();
    expect(insert?.dynamodb?.NewImage).toEqual({ ...key('v-1'), Status: { S: 'OPEN' } });
    expect(modify?.dynamodb?.OldImage).toEqual({ ...key('v-1'), Status: { S: 'OPEN' } });
    expect(modify?.dynamodb?.NewImage).toEqual({ ...key('v-1'), Status: { S: 'FIXED' } });
    expect(remove?.dynamodb?.OldImage).toEqual({ ...key('v-1'), Status: { S: 'FIXED' } });
    expect(remove?.dynamodb?.NewImage).toBeUndefined();
    for (const record of records) {
      expect(record).toMatchObject({ eventSource: 'aws:dynamodb', eventVersion: '1.1', awsRegion: expect.any(String) });
      expect(record.dynamodb).toMatchObject({ StreamViewType: 'NEW_AND_OLD_IMAGES', SizeBytes: expect.any(Number) });
      expect(record.dynamodb?.SequenceNumber).toMatch(/^\d+$/);
      expect(record.dynamodb?.ApproximateCreationDateTime).toBeInstanceOf(Date);
    }
    const numbers = records.map(sequence);
    expect(numbers).toEqual([...numbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  test('AT_SEQUENCE_NUMBER starts at the record, AFTER_SEQUENCE_NUMBER after it; Limit pages with NextShardIterator', async () => {
    const second = records[1]?.dynamodb?.SequenceNumber as string;
    expect((await readAll(await iterator('AT_SEQUENCE_NUMBER', second)))[0]?.dynamodb?.SequenceNumber).toBe(second);
    expect((await readAll(await iterator('AFTER_SEQUENCE_NUMBER', second)))[0]?.eventName).toBe('INSERT');
    const page: GetRecordsCommandOutput = await streams.send(new GetRecordsCommand({ ShardIterator: start, Limit: 2 }));
    expect(page.Records?.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY']);
    expect(page.NextShardIterator).toEqual(expect.any(String));
    const rest = await readAll(page.NextShardIterator as string, 1);
    expect(rest.map((record) => record.eventName)).toEqual(['INSERT', 'REMOVE']);
  });

  test('LATEST reads only what is written after it; TRIM_HORIZON everything kept', async () => {
    const latest = await iterator('LATEST');
    expect((await streams.send(new GetRecordsCommand({ ShardIterator: latest }))).Records).toEqual([]);
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('v-3') } }));
    expect((await readAll(latest)).map((record) => record.dynamodb?.Keys?.VulnID?.S)).toEqual(['v-3']);
    const all = await readAll(await iterator('TRIM_HORIZON'));
    expect(all.slice(-5).map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'INSERT', 'REMOVE', 'INSERT']);
  });
});

test('concurrent writers: each record’s old image is the previous record’s new image (commit order)', async () => {
  const start = await iterator('LATEST');
  const writers = 25;
  await Promise.all(
    Array.from({ length: writers }, (_, writer) =>
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key('counter'),
          UpdateExpression: 'ADD Hits :one SET LastWriter = :writer',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':writer': { N: String(writer) } },
        }),
      ),
    ),
  );
  const records = await readAll(start);
  expect(records).toHaveLength(writers);
  expect(records[0]?.eventName).toBe('INSERT');
  records.forEach((record, index) => {
    expect(record.dynamodb?.NewImage?.Hits?.N).toBe(String(index + 1));
    if (index > 0) expect(record.dynamodb?.OldImage).toEqual(records[index - 1]?.dynamodb?.NewImage);
  });
});

test('an unknown stream is ResourceNotFoundException', async () => {
  await expect(
    streams.send(
      new DescribeStreamCommand({
        StreamArn: `${streamArn.slice(0, streamArn.lastIndexOf('/'))}/2000-01-01T00:00:00.000`,
      }),
    ),
  ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});

test('Streams API calls are metered on the stream, not on the table', async () => {
  const before = await server.requests();
  await readAll(await iterator('TRIM_HORIZON'));
  const difference = meterDifference(before, await server.requests());
  expect(requestsOf(difference, TABLE)).toBe(0);
  expect(requestsOf(difference, `${TABLE}/stream`, ['GetShardIterator'])).toBe(1);
  expect(requestsOf(difference, `${TABLE}/stream`, ['GetRecords'])).toBeGreaterThanOrEqual(1);
});

describe('the stream store: retention and iterator lifetime', () => {
  let now = Date.parse('2026-12-01T00:00:00.000Z');
  const store = new StreamStore(() => now);
  const table = store.describeTable<StreamedTable & { TableArn: string }>({
    TableName: 'Kept',
    TableArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/Kept',
    KeySchema: [{ AttributeName: 'Id', KeyType: 'HASH' }],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
  });
  const arn = table.LatestStreamArn as string;
  const shard = (
    store.call('DescribeStream', { StreamArn: arn }) as { StreamDescription: { Shards: { ShardId: string }[] } }
  ).StreamDescription.Shards[0]?.ShardId;
  const get = (type: string, SequenceNumber?: string) =>
    (
      store.call('GetShardIterator', { StreamArn: arn, ShardId: shard, ShardIteratorType: type, SequenceNumber }) as {
        ShardIterator: string;
      }
    ).ShardIterator;
  const records = (iteratorText: string) =>
    (
      store.call('GetRecords', { ShardIterator: iteratorText }) as {
        Records: { dynamodb: { SequenceNumber: string; Keys: unknown; NewImage?: unknown } }[];
      }
    ).Records;
  const write = (id: string) =>
    store.append('Kept', { Id: { S: id } }, undefined, { Id: { S: id }, Extra: { S: 'x' } }, 10);

  test('KEYS_ONLY keeps the keys alone; the label is the creation time', () => {
    expect(arn).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/Kept/stream/2026-12-01T00:00:00.000');
    write('a');
    expect(records(get('TRIM_HORIZON'))).toEqual([
      expect.objectContaining({ dynamodb: expect.not.objectContaining({ NewImage: expect.anything() }) }),
    ]);
  });

  test('records are kept 24 hours: older ones are trimmed, and reading them is TrimmedDataAccessException', () => {
    const first = (records(get('TRIM_HORIZON'))[0] as { dynamodb: { SequenceNumber: string } }).dynamodb.SequenceNumber;
    const oldHorizon = get('TRIM_HORIZON');
    now += RETENTION_MS - 1;
    write('b');
    expect(records(get('TRIM_HORIZON'))).toHaveLength(2);
    now += 2;
    expect(records(get('TRIM_HORIZON')).map((record) => record.dynamodb.Keys)).toEqual([{ Id: { S: 'b' } }]);
    expect(() => get('AT_SEQUENCE_NUMBER', first)).toThrow(
      expect.objectContaining({ name: 'TrimmedDataAccessException' }),
    );
    expect(() => records(oldHorizon)).toThrow(expect.objectContaining({ name: 'ExpiredIteratorException' }));
  });

  test('a shard iterator expires 15 minutes after it is returned', () => {
    const fresh = get('TRIM_HORIZON');
    now += 15 * 60 * 1000;
    expect(records(fresh)).toHaveLength(1);
    now += 1;
    expect(() => records(fresh)).toThrow(expect.objectContaining({ name: 'ExpiredIteratorException' }));
  });
});

test('a persisted store keeps the stream’s ARN; a table stored without a stream gets the template’s by UpdateTable', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'streams-data-'));
  const template: CfnTemplate = {
    Resources: {
      Older: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          AttributeDefinitions: [{ AttributeName: 'Id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'Id', KeyType: 'HASH' }],
        },
      },
    },
  };
  const older = template.Resources.Older as { Properties: Record<string, unknown> };
  try {
    let stored = await startDynamoDb({ port: 0, dataDir });
    try {
      expect((await createTablesFromTemplate(stored.endpoint, template)).streamArns).toEqual({});
    } finally {
      await stored.close();
    }
    older.Properties.StreamSpecification = { StreamViewType: 'NEW_AND_OLD_IMAGES' };
    stored = await startDynamoDb({ port: 0, dataDir });
    let arn: string | undefined;
    try {
      arn = (await createTablesFromTemplate(stored.endpoint, template)).streamArns.Older;
      expect(arn).toMatch(/:table\/Older\/stream\/.+$/);
    } finally {
      await stored.close();
    }
    stored = await startDynamoDb({ port: 0, dataDir });
    const reader = new DynamoDBStreamsClient({
      endpoint: stored.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      expect((await createTablesFromTemplate(stored.endpoint, template)).streamArns.Older).toBe(arn);
      const described = await reader.send(new DescribeStreamCommand({ StreamArn: arn }));
      expect(described.StreamDescription).toMatchObject({ StreamStatus: 'ENABLED', TableName: 'Older' });
    } finally {
      reader.destroy();
      await stored.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);

test('a table deleted and created again without a stream records nothing on its old stream', async () => {
  const store = new StreamStore();
  const definition = {
    TableName: 'Again',
    TableArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/Again',
    KeySchema: [{ AttributeName: 'Id', KeyType: 'HASH' }],
  };
  const first = store.describeTable<StreamedTable & { TableArn: string }>({
    ...definition,
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  });
  expect(store.streaming('Again')).toBe(true);
  store.describeTable<StreamedTable & { TableArn: string }>({ ...definition });
  expect(store.streaming('Again')).toBe(false);
  expect(store.call('DescribeStream', { StreamArn: first.LatestStreamArn })).toMatchObject({
    StreamDescription: { StreamStatus: 'DISABLED' },
  });
});
