/**
 * Faults between the functions and DynamoDB (tests/support/fault-proxy.ts): throttling, HTTP 500,
 * connection resets, and the server gone mid-run then back. Each request either succeeds fully or
 * answers 503 with its request id; a client retrying its 503s ends with exactly one copy of every
 * finding; a 200 is never given for a batch only partly stored; the stack recovers by itself once
 * the fault clears. Sizes: RELIABILITY_FAULT_BATCHES (default 8) batches of 25.
 */
import type { Finding } from '../../functions/shared/core/finding-schema';
import { storedFindings } from '../support/attack';
import { startFaultProxy, type Fault, type FaultProxy } from '../support/fault-proxy';
import { startTestStack, type TestStack } from '../support/local-stack';
import { batchesOf, postWithRetry, sizeFromEnv } from '../support/reliability';

const BATCHES = sizeFromEnv('RELIABILITY_FAULT_BATCHES', 8);
const BATCH = 25;

jest.setTimeout(300_000);

let proxy: FaultProxy;
let stack: TestStack;

beforeAll(async () => {
  proxy = await startFaultProxy();
  stack = await startTestStack({
    functionsDynamoDbEndpoint: proxy.endpoint,
    environment: { POWERTOOLS_LOG_LEVEL: process.env.DEBUG_LOG ?? 'SILENT' },
  });
  proxy.target = stack.stack.backend.dynamoDbEndpoint;
});

afterAll(async () => {
  await stack?.close();
  await proxy?.close();
});

afterEach(() => {
  proxy.failing.clear();
  proxy.failEvery = 1;
  proxy.budget = Number.POSITIVE_INFINITY;
  proxy.fault = 'throttle';
});

/** Posts every batch at once; returns each batch with the status of every attempt. */
async function postAll(org: string, prefix: string, attempts: number) {
  const batches = batchesOf(prefix, org, BATCHES * BATCH, BATCH);
  const outcomes = await Promise.all(batches.map((batch) => postWithRetry(stack, stack.pki.scanner, batch, attempts)));
  return batches.map((batch, index) => ({ batch, ...(outcomes[index] as Awaited<ReturnType<typeof postWithRetry>>) }));
}

function expectOnlySuccessOrUnavailable(statuses: number[]) {
  for (const status of statuses) expect([200, 503]).toContain(status);
}

async function expectStoredOnce(org: string, batches: Finding[][]) {
  const stored = await storedFindings(stack, org);
  const ids = stored.map((item) => item.VulnID);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.sort()).toEqual(
    batches
      .flat()
      .map((finding) => finding.VulnID)
      .sort(),
  );
}

describe.each<Fault>(['throttle', 'server-error', 'reset'])('a burst of %s on every other DynamoDB call', (fault) => {
  test('each answer is 200 or 503, retried 503s end stored exactly once, and every 200 batch is whole', async () => {
    proxy.fault = fault;
    proxy.failEvery = 2;
    proxy.budget = 3 * BATCH;
    proxy.failing.add('*');
    const injectedBefore = proxy.injected;
    const org = `fault-${fault}`;
    const outcomes = await postAll(org, fault, 10);
    expect(proxy.injected).toBeGreaterThan(injectedBefore);
    for (const outcome of outcomes) {
      expectOnlySuccessOrUnavailable(outcome.statuses);
      expect(outcome.final.status).toBe(200);
    }
    proxy.failing.clear();
    await expectStoredOnce(
      org,
      outcomes.map((outcome) => outcome.batch),
    );
  });
});

test('a dependency that keeps failing answers 503 with the request id, and the stack recovers when it clears', async () => {
  proxy.fault = 'server-error';
  proxy.failing.add('UpdateItem');
  const [batch] = batchesOf('persistent', 'fault-persistent', BATCH, BATCH);
  const failed = await stack.request(stack.pki.scanner, { path: '/vuln', body: { findings: batch } });
  expect(failed.status).toBe(503);
  expect(failed.json()).toEqual({ message: 'Service temporarily unavailable', requestId: expect.any(String) });

  proxy.failing.clear();
  const recovered = await stack.request(stack.pki.scanner, { path: '/vuln', body: { findings: batch } });
  expect(recovered.status).toBe(200);
  await expectStoredOnce('fault-persistent', [batch as Finding[]]);
});

test('reads under faults answer 200 or 503, never another org and never a 500', async () => {
  proxy.fault = 'reset';
  proxy.failEvery = 2;
  proxy.failing.add('*');
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' })),
  );
  for (const answer of answers) {
    expect([200, 503]).toContain(answer.status);
    if (answer.status === 200) expect((answer.json() as { org: string }).org).toBe('org1');
  }
});

test('DynamoDB gone mid-run and back: every request 200 or 503, retries leave exactly one copy, and it recovers', async () => {
  const batches = batchesOf('outage', 'fault-outage', BATCHES * BATCH, BATCH);
  let stopped: Promise<void> | undefined;
  const first = await Promise.all(
    batches.map(async (batch) => {
      const answer = await stack.request(stack.pki.scanner, {
        path: '/vuln',
        body: { findings: batch },
        timeoutMs: 60_000,
      });
      // The first answer stops DynamoDB under the requests still running.
      stopped ??= proxy.stop();
      return answer;
    }),
  );
  await stopped;
  expectOnlySuccessOrUnavailable(first.map((answer) => answer.status));

  // While it is down: a fresh request is a clean 503.
  const during = await stack.request(stack.pki.scanner, { path: '/vuln', body: { findings: batches[0] } });
  expect(during.status).toBe(503);

  await proxy.start();
  const retried = await Promise.all(
    batches.map((batch, index) =>
      (first[index]?.status ?? 0) === 200
        ? Promise.resolve(200)
        : postWithRetry(stack, stack.pki.scanner, batch).then((outcome) => outcome.final.status),
    ),
  );
  expect(retried).toEqual(batches.map(() => 200));
  await expectStoredOnce('fault-outage', batches);
});
