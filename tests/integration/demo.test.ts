/** `npm run demo` passes every reference scenario, against a running stack and a self-started one. */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { deleteGrant } from '../../functions/shared/adapters/authz-admin';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki } from '../../local/pki';
import { startTestStack, type TestStack } from '../support/local-stack';

const run = promisify(execFile);
const DEMO = ['--import', 'tsx', 'cli/demo.ts'];
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
});

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('against a running stack: six PASS lines and exit code 0', async () => {
  const { stdout } = await run(process.execPath, [...DEMO, '--url', stack.url, '--pki', stack.pki.dir], {
    cwd: PROJECT_ROOT,
  });
  expect(stdout.match(/^PASS /gm)).toHaveLength(6);
  expect(stdout).not.toMatch(/^FAIL /m);
  expect(stdout).toContain('6/6 passed');
});

test('with nothing on $PORT it starts its own stack and passes', async () => {
  const port = await unusedPort();
  const { stdout } = await run(process.execPath, [...DEMO, '--pki', stack.pki.dir], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: String(port) },
  });
  expect(stdout).toContain(`Nothing answers on port ${port}`);
  expect(stdout).toContain('6/6 passed');
});

test('a truststore that also holds the rogue CA does not make the foreign-CA check pass by accident: it uses a CA made on the spot', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vuln-api-demo-'));
  const pki = await ensureDevPki(join(dir, 'pki'));
  const trusting = await startTestStack({ pkiDir: pki.dir, trust: [pki.rogueCa.certPem] });
  try {
    // The rogue certificate now passes the TLS layer and meets the authorization step instead.
    expect((await trusting.request(pki.rogue, { path: '/vuln?org=org1' })).body).not.toBe('{"message":"Forbidden"}');
    const { stdout } = await run(process.execPath, [...DEMO, '--url', trusting.url, '--pki', pki.dir], {
      cwd: PROJECT_ROOT,
    });
    expect(stdout).toContain('6/6 passed');
  } finally {
    await trusting.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failing scenario is a FAIL line and exit code 1', async () => {
  // Without the scanner's grant its POST is refused, while the mutual-TLS steps still pass.
  await deleteGrant(stack.dynamoDb, stack.tables.AuthzTable, 'scanner');
  await expect(
    run(process.execPath, [...DEMO, '--url', stack.url, '--pki', stack.pki.dir], { cwd: PROJECT_ROOT }),
  ).rejects.toMatchObject({
    code: 1,
    stdout: expect.stringMatching(
      /^PASS {2}a client certificate from a CA[^]*^FAIL {2}the scanner posts the reference finding/m,
    ),
  });
});
