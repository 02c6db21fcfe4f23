/**
 * The real statemachine/ingest.asl.json, run by aws-local-stepfunctions with the real handlers
 * (Lambda-like invoker) against a real DynamoDB-API server whose tables come from template.yaml.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { LocalBackend } from '../../local/backend';
import { clientCertificate } from '../support/certificates';
import type { FaultProxy } from '../support/fault-proxy';
import { startProxiedBackend, type ProxiedBackend } from '../support/proxied-backend';
import { REFERENCE_FINDING } from '../support/findings';

const reference = REFERENCE_FINDING;
/** How often the ASL retries the write task's transient errors. */
const WRITE_RETRIES = (
  JSON.parse(readFileSync(resolve(__dirname, '../../statemachine/ingest.asl.json'), 'utf8')) as {
    States: Record<string, { Retry: { MaxAttempts: number }[] }>;
  }
).States['Write findings']?.Retry[0]?.MaxAttempts as number;

let backend: LocalBackend;
let proxy: FaultProxy;
let client: DynamoDBClient;
let scannerPem: string;
let counter = 0;

let setup: ProxiedBackend;

beforeAll(async () => {
  setup = await startProxiedBackend(['org1', 'org2']);
  ({ backend, proxy, client, scannerPem } = setup);
});

afterAll(async () => {
  await setup?.close();
});

async function post(body: unknown, certPem = scannerPem) {
  counter += 1;
  const requestId = `request-${counter}`;
  const result = await backend.stateMachine.startSyncExecution(
    JSON.stringify({ body, requestId, sourceIp: '127.0.0.1', principal: { certPem } }),
  );
  expect(result.status).toBe('SUCCEEDED');
  const output = JSON.parse(result.output as string) as { statusCode: number; body: string };
  expect(Object.keys(output).sort()).toEqual(['body', 'statusCode']);
  return { statusCode: output.statusCode, body: JSON.parse(output.body) as Record<string, unknown>, requestId };
}

async function stored(org: string, vulnId: string) {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: backend.tableNames.FindingsTable, Key: marshall({ Org: org, VulnID: vulnId }) }),
  );
  return Item ? unmarshall(Item) : undefined;
}

test('the reference request succeeds and is stored normalized', async () => {
  const answer = await post(reference);
  expect(answer).toEqual({
    statusCode: 200,
    requestId: answer.requestId,
    body: {
      message: 'Post vulnerability succeeded',
      accepted: 1,
      created: 1,
      updated: 0,
      unchanged: 0,
      stale: 0,
      reopened: 0,
      runId: null,
      requestId: answer.requestId,
    },
  });
  const item = await stored('org1', 'testID3');
  expect(item).toMatchObject({
    Org: 'org1',
    VulnID: 'testID3',
    DueDate: '2022-09-09',
    Severity: 'UNKNOWN',
    Priority: '234234234',
    PluginId: 23234,
  });
  expect(item?.FirstSeen).toBe(item?.LastSeen);
});

test('a batch is written whole and re-reporting is an idempotent upsert keeping FirstSeen', async () => {
  const findings = [
    { ...reference, VulnID: 'batch-1', Priority: 'P1', AssetName: '  Host-A.Example.COM ' },
    { ...reference, VulnID: 'batch-2', Org: 'org2', Priority: '3', DueDate: '2024-02-29' },
  ];
  const first = await post({ findings });
  expect(first.body).toMatchObject({ accepted: 2, created: 2, updated: 0 });
  const before = await stored('org1', 'batch-1');
  expect(before).toMatchObject({ AssetName: 'host-a.example.com', Severity: 'CRITICAL' });
  expect(await stored('org2', 'batch-2')).toMatchObject({ Severity: 'HIGH', DueDate: '2024-02-29' });

  await new Promise((resolve) => setTimeout(resolve, 5));
  const again = await post({ findings: [{ ...findings[0], PluginName: 'renamed' }, findings[1]] });
  expect(again.body).toMatchObject({ accepted: 2, created: 0, updated: 2 });
  const after = await stored('org1', 'batch-1');
  expect(after?.FirstSeen).toBe(before?.FirstSeen);
  expect(after?.LastSeen > before?.LastSeen).toBe(true);
  expect(after?.PluginName).toBe('renamed');
});

test('an invalid batch answers 400 with every invalid field and writes nothing', async () => {
  const answer = await post({
    findings: [
      { ...reference, VulnID: 'ok-but-not-written' },
      { ...reference, VulnID: 'bad id', DueDate: '02-30-2023', Extra: 1 },
    ],
  });
  expect(answer.statusCode).toBe(400);
  expect(answer.body.requestId).toBe(answer.requestId);
  expect(answer.body.message).toBe('Invalid request');
  expect(answer.body.errors).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ index: 1, path: 'VulnID' }),
      expect.objectContaining({ index: 1, path: 'DueDate', message: 'must be a real calendar date' }),
      { index: 1, path: '', message: 'unknown field' },
    ]),
  );
  expect(await stored('org1', 'ok-but-not-written')).toBeUndefined();
});

test('a batch with one org the scanner is not granted is forbidden and writes nothing', async () => {
  const answer = await post({
    findings: [
      { ...reference, VulnID: 'allowed-org' },
      { ...reference, VulnID: 'denied-org', Org: 'org9' },
    ],
  });
  expect(answer).toMatchObject({ statusCode: 403, body: { message: 'Forbidden' } });
  expect(Object.keys(answer.body)).toEqual(['message', 'requestId']);
  expect(await stored('org1', 'allowed-org')).toBeUndefined();
  expect(await stored('org9', 'denied-org')).toBeUndefined();
});

test('a certificate from an OU without a grant is forbidden', async () => {
  const other = await clientCertificate('CN=someone, OU=marketing, O=Example Corp');
  expect((await post({ ...reference, VulnID: 'marketing' }, other.certPem)).statusCode).toBe(403);
});

test('a write that keeps failing is retried by the state machine, then answers 503 with the request id', async () => {
  // The findings stream's consumer writes the org summary (UpdateItem) after the earlier tests' writes: let it finish.
  await backend.drainStreams();
  proxy.counts.clear();
  proxy.failing.add('UpdateItem');
  try {
    const answer = await post({ ...reference, VulnID: 'throttled' });
    expect(answer).toEqual({
      statusCode: 503,
      requestId: answer.requestId,
      body: { message: 'Service temporarily unavailable', requestId: answer.requestId },
    });
  } finally {
    proxy.failing.clear();
  }
  // One SDK attempt per task attempt (AWS_MAX_ATTEMPTS=1): the first try plus the ASL's retries.
  expect(proxy.counts.get('UpdateItem')).toBe(1 + WRITE_RETRIES);
  expect(await stored('org1', 'throttled')).toBeUndefined();
});

test('an unexpected failure answers a generic 500 with the request id and nothing internal', async () => {
  // A task input the handler refuses (empty request id) is a bug, not a client error: States.ALL.
  const result = await backend.stateMachine.startSyncExecution(
    JSON.stringify({ body: reference, requestId: '', sourceIp: '127.0.0.1', principal: {} }),
  );
  const output = JSON.parse(result.output as string) as { statusCode: number; body: string };
  expect(output).toEqual({
    statusCode: 500,
    body: JSON.stringify({ message: 'Internal server error', requestId: '' }),
  });
});

test('an unparsable certificate is a deny, not a crash', async () => {
  const answer = await post(
    { ...reference, VulnID: 'bad-cert' },
    '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----',
  );
  expect(answer).toMatchObject({ statusCode: 403, body: { message: 'Forbidden' } });
});
