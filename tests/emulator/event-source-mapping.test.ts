/**
 * Event source mappings of DynamoDB streams (local/lambda/event-source-mappings.ts) against what the Lambda
 * Developer Guide documents ("Using AWS Lambda with Amazon DynamoDB", its error handling and partial batch response
 * pages), end to end: the fixture template's table and functions (tests/fixtures/streams), the real DynamoDB-API
 * server with IAM in front, the functions in execution environments, and the mapping polling the Streams API with
 * the function's role. Runs on dynalite and, with LOCAL_DYNAMODB=dynamodb-local, on DynamoDB Local (IAM apart).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localAwsEnvironment } from '../../local/aws-local';
import { localResolver } from '../../local/cloudformation/local-resolver';
import { loadTemplate } from '../../local/cloudformation/template';
import {
  createTablesFromTemplate,
  localDynamoDbClient,
  startDynamoDb,
  type LocalDynamoDb,
} from '../../local/dynamodb/server';
import { stackIam } from '../../local/iam/stack-iam';
import type { Denial } from '../../local/iam/gate';
import {
  eventSourceMappingDefinitions,
  matchesPattern,
  startEventSourceMappings,
  type EventSourceMappingDefinition,
  type EventSourceMappings,
} from '../../local/lambda/event-source-mappings';
import { functionDefinitions, startLocalFunctions, type LocalFunctions } from '../../local/lambda/invoker';
import { startFaultProxy } from '../support/fault-proxy';

const template = loadTemplate(resolve(__dirname, '../fixtures/streams/template.yaml'));
const directory = mkdtempSync(join(tmpdir(), 'esm-'));
let server: LocalDynamoDb;
let client: DynamoDBClient;
let functions: LocalFunctions;
let definitions: EventSourceMappingDefinition[];
let streamArn: string;
const denials: Denial[] = [];
const logged: Record<string, unknown>[] = [];
const running: EventSourceMappings[] = [];

interface Delivery {
  failed: boolean;
  partial: string | null;
  event: { Records: { eventName: string; dynamodb: { SequenceNumber: string; Keys: { Id: { S: string } } } }[] };
}
const deliveries = (functionName = 'RecorderFunction'): Delivery[] =>
  readFileSync(join(directory, `${functionName}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Delivery);
const ids = (delivery: Delivery) => delivery.event.Records.map((record) => record.dynamodb.Keys.Id.S);

/** Items written before the mapping starts, so its batches (BatchSize 4, TRIM_HORIZON) are known in advance. */
const ITEMS: [string, string][] = [
  ['o1', 'ok'],
  ['o2', 'ok'],
  ['o3', 'ok'],
  ['o4', 'ok'],
  ['f1', 'fail-once'],
  ['o5', 'ok'],
  ['o6', 'ok'],
  ['o7', 'ok'],
  ['o8', 'ok'],
  ['o9', 'ok'],
  ['p1', 'poison'],
  ['o10', 'ok'],
  ['q1', 'ok'],
  ['q2', 'partial-once'],
  ['q3', 'ok'],
  ['q4', 'ok'],
];

beforeAll(async () => {
  server = await startDynamoDb({ port: 0 });
  client = localDynamoDbClient(server.endpoint);
  const tables = await createTablesFromTemplate(server.endpoint, template);
  streamArn = tables.streamArns.ChangesTable as string;
  const resolver = localResolver(template, { tableNames: tables.names, secretArns: {}, streamArns: tables.streamArns });
  if (server.enforceIam)
    await server.enforceIam(stackIam({ template, references: resolver.references }), (denial) => denials.push(denial));
  functions = await startLocalFunctions(functionDefinitions(template, resolver), {
    environment: { ...localAwsEnvironment(server.endpoint), RECORDER_DIR: directory },
    defaultConcurrency: 1,
  });
  definitions = eventSourceMappingDefinitions(template, resolver);
  // In order, one write at a time: the stream holds them in this order.
  for (const [id, mode] of ITEMS)
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { ChangesTable: [{ PutRequest: { Item: { Id: { S: id }, Mode: { S: mode } } } }] },
      }),
    );
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((mappings) => mappings.close()));
  await functions?.close();
  client?.destroy();
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

const start = (id: string, endpoint = server.endpoint) => {
  const mappings = startEventSourceMappings(
    definitions.filter((definition) => definition.id === id),
    {
      functions,
      endpoint,
      retryIntervalMs: 5,
      pollIntervalMs: 20,
      log: (entry) => logged.push(entry),
    },
  );
  running.push(mappings);
  return mappings;
};

test('the template event becomes a mapping with its settings, the stream the running table’s', () => {
  expect(streamArn).toMatch(/^arn:aws:dynamodb:[^:]+:\d{12}:table\/ChangesTable\/stream\/.+$/);
  expect(definitions.find((definition) => definition.id === 'RecorderFunction.Changes')).toEqual({
    id: 'RecorderFunction.Changes',
    functionId: 'RecorderFunction',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:RecorderFunction',
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    batchSize: 4,
    maximumBatchingWindowMs: 0,
    maximumRetryAttempts: 2,
    bisectBatchOnFunctionError: true,
    reportBatchItemFailures: true,
    onFailureDestination: 'arn:aws:sqs:us-east-1:000000000000:changes-failures',
    enabled: true,
    filters: [],
  });
});

describe('a mapping whose role reads the stream', () => {
  let mappings: EventSourceMappings;
  beforeAll(async () => {
    mappings = start('RecorderFunction.Changes');
    await mappings.drain();
  }, 60_000);

  test('delivers the documented event, in order, in batches of BatchSize', () => {
    const first = deliveries()[0] as Delivery;
    expect(ids(first)).toEqual(['o1', 'o2', 'o3', 'o4']);
    const record = first.event.Records[0] as unknown as Record<string, unknown>;
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: expect.any(String),
      eventSourceARN: streamArn,
      dynamodb: {
        Keys: { Id: { S: 'o1' } },
        NewImage: { Id: { S: 'o1' }, Mode: { S: 'ok' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
    // Every record reaches the function successfully once, in the stream's order (bar the poison record).
    const succeeded = deliveries()
      .filter((delivery) => !delivery.failed)
      .flatMap((delivery) =>
        delivery.partial === null
          ? ids(delivery)
          : ids(delivery).slice(
              0,
              delivery.event.Records.findIndex((r) => r.dynamodb.SequenceNumber === delivery.partial),
            ),
      );
    expect(succeeded).toEqual(ITEMS.map(([id]) => id).filter((id) => id !== 'p1'));
    expect(deliveries().every((delivery) => delivery.event.Records.length <= 4)).toBe(true);
  });

  test('a failed batch is split in two and retried until it succeeds', () => {
    const withF1 = deliveries().filter((delivery) => ids(delivery).includes('f1'));
    expect(withF1.map((delivery) => [ids(delivery), delivery.failed])).toEqual([
      [['f1', 'o5', 'o6', 'o7'], true],
      [['f1', 'o5'], false],
    ]);
  });

  test('bisecting isolates the record that always fails; after MaximumRetryAttempts it goes to the on-failure destination', () => {
    const withP1 = deliveries().filter((delivery) => ids(delivery).includes('p1'));
    expect(withP1.map(ids)).toEqual([['o8', 'o9', 'p1', 'o10'], ['p1', 'o10'], ['p1'], ['p1'], ['p1']]);
    const failures = mappings.failures();
    expect(failures).toHaveLength(1);
    const poison = (deliveries().find((delivery) => ids(delivery).join() === 'p1') as Delivery).event.Records[0];
    expect(failures[0]).toMatchObject({
      mapping: 'RecorderFunction.Changes',
      destination: 'arn:aws:sqs:us-east-1:000000000000:changes-failures',
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:RecorderFunction',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { functionError: 'Unhandled' },
      DDBStreamBatchInfo: {
        startSequenceNumber: poison?.dynamodb.SequenceNumber,
        endSequenceNumber: poison?.dynamodb.SequenceNumber,
        batchSize: 1,
        streamArn,
      },
    });
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'event source mapping: batch sent to its on-failure destination',
      }),
    );
  });

  test('batchItemFailures resume the batch at the first failed record, the records before it done', () => {
    const withQ = deliveries().filter((delivery) => ids(delivery).some((id) => id.startsWith('q')));
    expect(withQ.map((delivery) => ids(delivery))).toEqual([
      ['q1', 'q2', 'q3', 'q4'],
      ['q2', 'q3', 'q4'],
    ]);
  });

  test('a record written later is delivered by the next drain; nothing is delivered twice once done', async () => {
    const before = deliveries().length;
    await client.send(
      new BatchWriteItemCommand({ RequestItems: { ChangesTable: [{ PutRequest: { Item: { Id: { S: 'late' } } } }] } }),
    );
    await mappings.drain();
    expect(deliveries().slice(before).map(ids)).toEqual([['late']]);
    expect(mappings.status()).toEqual([
      { id: 'RecorderFunction.Changes', state: 'Enabled', invocations: expect.any(Number) },
    ]);
  });
});

test('FilterCriteria: only the records a filter matches reach the function', async () => {
  const mappings = start('FilteredFunction.Changes');
  await mappings.drain();
  const delivered = deliveries('FilteredFunction').flatMap(ids);
  expect(delivered).toEqual(ITEMS.filter(([, mode]) => mode === 'ok').map(([id]) => id));
  expect(matchesPattern({ a: { b: 5 } }, { a: { b: [{ numeric: ['>', 4, '<=', 5] }] } })).toBe(true);
  expect(matchesPattern({ a: 'xyz' }, { a: [{ prefix: 'xy' }], c: [{ exists: false }] })).toBe(true);
  expect(matchesPattern({ a: 'xyz' }, { a: [{ 'anything-but': ['xyz'] }] })).toBe(false);
});

test('a record trimmed under the iterator (TrimmedDataAccessException): the mapping resumes at the trim horizon, nothing delivered twice', async () => {
  const proxy = await startFaultProxy();
  proxy.target = server.endpoint;
  proxy.fault = 'trimmed';
  proxy.failing.add('GetRecords');
  // The first GetRecords reads a batch; the second is refused as trimmed, after a record was read.
  proxy.failEvery = 2;
  proxy.budget = 1;
  try {
    const mappings = start('ResumingFunction.Changes', proxy.endpoint);
    await mappings.drain();
    expect(proxy.injected).toBe(1);
    expect(deliveries('ResumingFunction').flatMap(ids)).toEqual(
      ITEMS.filter(([, mode]) => mode === 'ok').map(([id]) => id),
    );
    expect(mappings.status()).toEqual([expect.objectContaining({ id: 'ResumingFunction.Changes', state: 'Enabled' })]);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'event source mapping resumed at the trim horizon',
        mapping: 'ResumingFunction.Changes',
      }),
    );
  } finally {
    await proxy.close();
  }
});

test('a role without the streams actions reads nothing: the mapping fails visibly and its function is never invoked', async () => {
  if (!server.enforceIam) return; // DynamoDB Local: the local stack cannot put IAM in front of it.
  const invoked = deliveries().length;
  expect(() => deliveries('UnreadableFunction')).toThrow(/ENOENT/);
  const mappings = start('UnreadableFunction.Changes');
  await expect(mappings.drain()).rejects.toThrow(
    /UnreadableFunction\.Changes: Cannot access stream .*ChangesTable\/stream/,
  );
  expect(mappings.status()).toEqual([
    expect.objectContaining({ id: 'UnreadableFunction.Changes', state: 'Failed', invocations: 0 }),
  ]);
  // The DynamoDB-API server's process reports its denials to this one over IPC, beside the HTTP answer.
  for (let wait = 0; wait < 100 && denials.length === 0; wait += 1)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(denials).toContainEqual(
    expect.objectContaining({
      caller: expect.stringContaining('UnreadableRole/EventSourceMappingUnreadableFunction'),
      action: 'dynamodb:DescribeStream',
      resource: streamArn,
    }),
  );
  expect(logged).toContainEqual(
    expect.objectContaining({ message: 'event source mapping failed', mapping: 'UnreadableFunction.Changes' }),
  );
  expect(deliveries()).toHaveLength(invoked);
});
