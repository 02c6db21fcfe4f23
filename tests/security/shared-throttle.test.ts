/**
 * [9] The stage throttle is one bucket per method for all clients, charged before authorization: a
 * certificate that may read nothing still spends it (docs/threat-model.md says what limits that).
 */
import { startTestStack, type TestStack } from '../support/local-stack';

let stack: TestStack;

beforeAll(async () => {
  // A burst of three, refilled once every 1000 s: nothing refills during the test however slow it runs.
  stack = await startTestStack({ throttle: { rateLimit: 0.001, burstLimit: 3 } });
});

afterAll(async () => {
  await stack?.close();
});

test('denied requests of one certificate use up the throttle every client shares', async () => {
  const notGranted = await stack.ca.issue({ subject: 'CN=intruder-01, OU=intruder, O=Example Corp', kind: 'client' });
  const spent = [];
  for (let attempt = 0; attempt < 3; attempt += 1)
    spent.push((await stack.request(notGranted, { path: '/vuln?org=org1' })).status);
  expect(spent).toEqual([403, 403, 403]);
  expect((await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' })).status).toBe(429);
});
