/**
 * `npm start` as a newcomer meets it, through npm itself: it writes where it listens to
 * .local/stack.json (here $LOCAL_STACK_DIR) for a second terminal, whose tools find it there; a
 * second start in the same checkout names the first; start-up errors are one sentence, not a stack
 * trace; SIGTERM to npm stops the stack and every process it started, and removes the file.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import type { StackState } from '../../local/stack-state';

const run = promisify(execFile);
const STACK_TRACE = /^\s+at /m;

let dir: string;
let npm: ChildProcess;
let banner = '';
let state: StackState;

/** The environment of a second terminal: no port variables, this test's .local/. */
function terminal(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env, LOCAL_STACK_DIR: dir, ...extra };
  for (const name of ['PORT', 'DYNAMODB_PORT', 'SFN_PORT', 'XRAY_DAEMON_PORT', 'TRACES_PORT', 'TRUSTSTORE'])
    if (!(name in extra)) delete environment[name];
  return environment;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined, seconds: number): Promise<T> {
  for (let attempt = 0; attempt < seconds * 4; attempt += 1) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}\n${banner}`);
}

const startDirectly = (env: NodeJS.ProcessEnv) =>
  run(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: PROJECT_ROOT,
    env: terminal(env),
    timeout: 90_000,
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vuln-api-start-'));
  npm = spawn('npm', ['start'], {
    cwd: PROJECT_ROOT,
    env: terminal({ PORT: '0', DYNAMODB_PORT: '0', SFN_PORT: '0', XRAY_DAEMON_PORT: '0', TRACES_PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  npm.stdout?.on('data', (chunk: Buffer) => (banner += chunk.toString()));
  npm.stderr?.on('data', (chunk: Buffer) => (banner += chunk.toString()));
  state = await until(
    'the state file',
    () => {
      const path = join(dir, 'stack.json');
      if (!existsSync(path)) return undefined;
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<StackState>;
      return parsed.gatewayUrl && banner.includes('Ctrl-C') ? (parsed as StackState) : undefined;
    },
    90,
  );
}, 120_000);

afterAll(async () => {
  if (npm.exitCode === null) npm.kill('SIGKILL');
  if (state && alive(state.pid)) process.kill(state.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the state file says where the stack listens', () => {
  expect(state).toMatchObject({
    gatewayUrl: `https://localhost:${state.ports.gateway}`,
    dynamoDbEndpoint: `http://127.0.0.1:${state.ports.dynamoDb}`,
    stepFunctionsEndpoint: `http://127.0.0.1:${state.ports.stepFunctions}`,
    pkiDir: join(dir, 'pki'),
    dataDir: join(dir, 'dynamodb'),
    truststore: join(dir, 'pki', 'ca.pem'),
    trustsDevCa: true,
    trustsRogueCa: false,
    grantCacheSeconds: 30,
    bindAddress: '127.0.0.1',
  });
  expect(state.ports.gateway).toBeGreaterThan(0);
  expect(alive(state.pid)).toBe(true);
});

test('the banner prints curl commands with absolute paths, labelled by what they get', () => {
  expect(banner).toContain(
    `--cacert ${join(dir, 'pki', 'ca.pem')} --cert ${join(dir, 'pki', 'scanner.pem')} --key ${join(dir, 'pki', 'scanner-key.pem')}`,
  );
  expect(banner).toMatch(/reference finding \(200\)/);
  expect(banner).toContain('never reaches a route (403)');
  expect(banner).toContain(join(dir, 'stack.json'));
  // Seeded into empty tables: the first tour POST of the reference finding is an update.
  expect(banner).toMatch(/seeded 3 demo findings/);
});

test('a second npm start in the same checkout names the running one, without a stack trace', async () => {
  const second = await startDirectly({
    PORT: '0',
    DYNAMODB_PORT: '0',
    SFN_PORT: '0',
    XRAY_DAEMON_PORT: '0',
    TRACES_PORT: '0',
  }).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  expect(second?.code).toBe(1);
  expect(second?.stderr).toContain(`pid ${state.pid}`);
  expect(second?.stderr).toContain(state.gatewayUrl);
  expect(second?.stderr).toContain(`DynamoDB port ${state.ports.dynamoDb}`);
  expect(second?.stderr).not.toMatch(STACK_TRACE);
  expect(second?.stderr).not.toContain('Database is closed');
  // The first one is untouched.
  expect(JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8'))).toMatchObject({ pid: state.pid });
});

test('the tools of a second terminal find it: demo, authz (list --json pipes), smoke', async () => {
  const demo = await run(process.execPath, ['--import', 'tsx', 'cli/demo.ts'], {
    cwd: PROJECT_ROOT,
    env: terminal(),
    timeout: 60_000,
  });
  expect(demo.stdout).toContain(`Demo against ${state.gatewayUrl}\n`);
  expect(demo.stdout).toContain('6/6 passed');

  const listed = await run('npm', ['run', '-s', 'authz', '--', 'list', '--json'], {
    cwd: PROJECT_ROOT,
    env: terminal(),
    timeout: 60_000,
  });
  expect(JSON.parse(listed.stdout)).toMatchObject({
    grants: expect.arrayContaining([expect.objectContaining({ ou: 'scanner' })]),
  });

  const granted = await run(process.execPath, ['--import', 'tsx', 'cli/authz.ts', 'revoke', '--ou', 'nobody'], {
    cwd: PROJECT_ROOT,
    env: terminal(),
    timeout: 60_000,
  });
  expect(granted.stdout).toContain(`at ${state.dynamoDbEndpoint}`);

  const smoke = await run(process.execPath, ['--import', 'tsx', 'cli/smoke.ts'], {
    cwd: PROJECT_ROOT,
    env: terminal(),
    timeout: 60_000,
  });
  expect(smoke.stdout).toContain(`local Step Functions API ${state.stepFunctionsEndpoint}`);
  expect(smoke.stdout).toContain('3/3 passed');
});

test('SIGTERM to npm stops the stack and every process it started, and removes the state file', async () => {
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(state.pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
  expect(children.length).toBeGreaterThan(0);
  npm.kill('SIGTERM');
  await until(
    'the stack to stop',
    () => (!alive(state.pid) && children.every((pid) => !alive(pid)) ? true : undefined),
    30,
  );
  expect(existsSync(join(dir, 'stack.json'))).toBe(false);
  expect(banner).toContain('SIGTERM: stopping the local stack');
}, 40_000);

describe('start-up errors are one sentence, not a stack trace', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT must be a port number'],
    [{ TRUSTSTORE: '/nonexistent/ca.pem' }, 'TRUSTSTORE=/nonexistent/ca.pem does not exist'],
  ])('%j', async (env, message) => {
    await expect(startDirectly(env)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(message) });
    await expect(startDirectly(env)).rejects.toMatchObject({ stderr: expect.not.stringMatching(STACK_TRACE) });
  });

  it('a port in use', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((busy.address() as AddressInfo).port);
      const failure = (await startDirectly({
        DYNAMODB_PORT: port,
        PORT: '0',
        SFN_PORT: '0',
        XRAY_DAEMON_PORT: '0',
        TRACES_PORT: '0',
      }).catch((error: unknown) => error)) as { code: number; stderr: string };
      expect(failure.code).toBe(1);
      expect(failure.stderr).toContain('A port is already in use');
      expect(failure.stderr).not.toMatch(STACK_TRACE);
      expect(existsSync(join(dir, 'stack.json'))).toBe(false);
    } finally {
      busy.close();
    }
  });
});
