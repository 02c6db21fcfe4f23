/**
 * Restart: everything acknowledged before a stop is there after the stack starts again on the same
 * data, including writes acknowledged while others were cut off by the stop (the nearest an
 * in-process test gets to a crash mid-write: the gateway drops its connections and DynamoDB closes
 * under running executions).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallResult } from '../../client/mtls';
import { storedFindings } from '../support/attack';
import { portOf, startTestStack } from '../support/local-stack';
import { batchesOf, sizeFromEnv } from '../support/reliability';

const BATCHES = sizeFromEnv('RELIABILITY_RESTART_BATCHES', 12);

jest.setTimeout(120_000);

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'vuln-api-restart-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

test('a stop in the middle of writes loses nothing that was acknowledged', async () => {
  const options = { dataDir: join(directory, 'dynamodb'), pkiDir: join(directory, 'pki') };
  const first = await startTestStack(options);
  const dynamoDbPort = portOf(first.stack.backend.dynamoDbEndpoint);
  const before = batchesOf('before-stop', 'restart', 50, 50)[0] ?? [];
  const batches = batchesOf('during-stop', 'restart', BATCHES * 20, 20);
  const acknowledged: string[] = [];
  try {
    expect((await first.request(first.pki.scanner, { path: '/vuln', body: { findings: before } })).status).toBe(200);
    acknowledged.push(...before.map((finding) => finding.VulnID));

    let stopping: Promise<void> | undefined;
    await Promise.all(
      batches.map(async (batch) => {
        let answer: CallResult | undefined;
        try {
          answer = await first.request(first.pki.scanner, {
            path: '/vuln',
            body: { findings: batch },
            timeoutMs: 60_000,
          });
        } catch {
          answer = undefined; // cut off by the stop: not acknowledged
        }
        if (answer?.status === 200) acknowledged.push(...batch.map((finding) => finding.VulnID));
        // The first acknowledgement stops the whole stack under the requests still running.
        stopping ??= first.close();
      }),
    );
    await stopping;
  } finally {
    await first.close().catch(() => undefined);
  }
  expect(acknowledged.length).toBeGreaterThan(before.length);

  const second = await startTestStack({ ...options, dynamoDbPort, grants: false });
  try {
    const stored = new Set((await storedFindings(second, 'restart')).map((item) => String(item.VulnID)));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    // And the restarted stack serves as before.
    expect((await second.request(second.pki.dashboard, { path: '/vuln?org=org1' })).status).toBe(200);
  } finally {
    await second.close();
  }
});
