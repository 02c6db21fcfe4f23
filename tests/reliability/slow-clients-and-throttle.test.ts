/**
 * Clients that hold connections open (slow headers, a slow body, idle TLS connections) do not keep
 * others from being served; a burst over the stage throttle gets 429 with Retry-After, the limit is
 * shared by every client as on AWS ("throttling limits are applied across all clients",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html),
 * and once the burst stops everyone is served again. No assertion depends on timing: loops are
 * bounded by count, and waiting only ever follows Retry-After.
 */
import { connect, type TLSSocket } from 'node:tls';
import type { Issued } from '../../local/pki';
import { REFERENCE_FINDING } from '../../local/seed';
import { startTestStack, type TestStack } from '../support/local-stack';
import { sizeFromEnv } from '../support/reliability';

const IDLE = sizeFromEnv('RELIABILITY_IDLE_CONNECTIONS', 40);
const BURST = 20;

jest.setTimeout(120_000);

let stack: TestStack;
const sockets: TLSSocket[] = [];

beforeAll(async () => {
  // A burst of 3 refilled every two seconds: 20 requests sent at once would have to spread over
  // half a minute to all fit, far beyond how slowly even a loaded machine opens them.
  stack = await startTestStack({ throttle: { rateLimit: 0.5, burstLimit: 3 } });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await stack?.close();
});

function openConnection(identity: Issued): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: stack.stack.gateway.port,
      servername: 'localhost',
      ca: stack.pki.ca.certPem,
      cert: identity.certPem,
      key: identity.keyPem,
    });
    sockets.push(socket);
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Retries on 429 only, waiting what Retry-After says, at most `attempts` times. */
async function untilServed(send: () => ReturnType<TestStack['request']>, attempts = 30) {
  for (let attempt = 1; ; attempt += 1) {
    const answer = await send();
    if (answer.status !== 429 || attempt >= attempts) return answer;
    await new Promise((resolve) => setTimeout(resolve, Number(answer.headers['retry-after'] ?? 1) * 1000));
  }
}

test('slow headers, a slow body and idle connections do not keep other clients waiting', async () => {
  const idle = await Promise.all(Array.from({ length: IDLE }, () => openConnection(stack.pki.dashboard)));
  const slowHeaders = await openConnection(stack.pki.scanner);
  slowHeaders.write('POST /vuln HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl');
  const slowBody = await openConnection(stack.pki.scanner);
  slowBody.write(
    'POST /vuln HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"VulnID":"sl',
  );

  const read = await untilServed(() => stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' }));
  expect(read.status).toBe(200);
  const written = await untilServed(() =>
    stack.request(stack.pki.scanner, { path: '/vuln', body: { ...REFERENCE_FINDING, VulnID: 'beside-slow-clients' } }),
  );
  expect(written.status).toBe(200);
  // The held connections are still open: the others were served beside them, not after them.
  expect([...idle, slowHeaders, slowBody].every((socket) => !socket.destroyed)).toBe(true);
});

test('a burst from many clients over the stage throttle gets 429 with Retry-After, then everyone is served again', async () => {
  const clients = await Promise.all(
    Array.from({ length: BURST }, (_, index) =>
      stack.ca.issue({ subject: `CN=burst-${index}, OU=dashboard, O=Example Corp`, kind: 'client' }),
    ),
  );
  const burst = await Promise.all(clients.map((client) => stack.request(client, { path: '/vuln?org=org1' })));
  const statuses = burst.map((answer) => answer.status);
  for (const status of statuses) expect([200, 429]).toContain(status);
  // Each client sent once: a per-client limit would have served them all.
  expect(statuses).toContain(429);
  for (const answer of burst.filter((candidate) => candidate.status === 429)) {
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json()).toEqual({ message: 'Too many requests', requestId: answer.headers['x-amz-apigw-id'] });
  }

  // Throttled clients come back one after another, as Retry-After tells them: all are served.
  const throttled = clients.filter((_, index) => statuses[index] === 429).slice(0, 4);
  for (const client of throttled)
    expect((await untilServed(() => stack.request(client, { path: '/vuln?org=org1' }))).status).toBe(200);
});
