/** With a data directory, a restarted stack still has its findings and grants. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFERENCE_FINDING } from '../../local/seed';
import { portOf, startTestStack } from '../support/local-stack';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'vuln-api-persist-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

test('a restart keeps the stored findings and the grants', async () => {
  const options = { dataDir: join(directory, 'dynamodb'), pkiDir: join(directory, 'pki') };
  const first = await startTestStack(options);
  const dynamoDbPort = portOf(first.stack.backend.dynamoDbEndpoint);
  try {
    const posted = await first.request(first.pki.scanner, {
      path: '/vuln',
      body: { ...REFERENCE_FINDING, VulnID: 'persisted-1' },
    });
    expect(posted.status).toBe(200);
  } finally {
    await first.close();
  }

  // Same port: the in-process functions keep the DynamoDB endpoint they were loaded with.
  const second = await startTestStack({ ...options, dynamoDbPort, grants: false });
  try {
    const read = await second.request(second.pki.dashboard, { path: '/vuln?org=org1' });
    expect(read.status).toBe(200);
    expect((read.json() as { items: { VulnID: string }[] }).items.map((item) => item.VulnID)).toContain('persisted-1');
  } finally {
    await second.close();
  }
});
