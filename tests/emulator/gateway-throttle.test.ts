/** Stage throttling: a token bucket per method, refused with the THROTTLED gateway response (429). */
import { startTestStack, type TestStack } from '../support/local-stack';

let stack: TestStack;

beforeAll(async () => {
  // A burst of two refilled once every 1,000 seconds: the third request finds the bucket empty however
  // slowly a busy machine runs the first two (no timing dependence).
  stack = await startTestStack({ throttle: { rateLimit: 0.001, burstLimit: 2 } });
});

afterAll(async () => {
  await stack?.close();
});

test('requests beyond the burst get 429 Too many requests with Retry-After, per method', async () => {
  const get = () => stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' });
  const statuses = [(await get()).status, (await get()).status];
  const throttled = await get();
  expect(statuses).toEqual([200, 200]);
  expect(throttled.status).toBe(429);
  expect(throttled.json()).toEqual({ message: 'Too many requests', requestId: throttled.headers['x-amz-apigw-id'] });
  expect(throttled.headers['retry-after']).toBe('1');

  // POST /vuln has its own bucket, and an unknown route is refused before throttling.
  const post = await stack.request(stack.pki.dashboard, { path: '/vuln', body: { findings: [] } });
  expect(post.status).toBe(400);
  expect((await stack.request(stack.pki.dashboard, { path: '/elsewhere' })).status).toBe(404);
});
