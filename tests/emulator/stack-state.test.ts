/**
 * The pieces `npm start` uses to tell a second terminal where it is and what it prints: the state
 * file (claimed exclusively, stale files replaced), the banner's labels following the truststore,
 * start-up failures as one sentence, the `sam local invoke` env-vars file and --bind-address.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PemBundleError } from '../../functions/shared/core/pem-bundle';
import { ensureDevPki, type DevPki } from '../../local/pki';
import { targetPorts } from '../../local/ports';
import {
  bindAddressWarning,
  bundleHolds,
  samEnvVars,
  stackBanner,
  startFailure,
  type BannerInput,
} from '../../local/stack-banner';
import {
  claimStackState,
  discoverStack,
  releaseStackState,
  runningStack,
  StackAlreadyRunningError,
  stackStatePath,
  writeStackState,
  type StackState,
} from '../../local/stack-state';
import { startOptions } from '../../local/start-options';

let dir: string;
let pki: DevPki;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vuln-api-state-'));
  pki = await ensureDevPki(join(dir, 'pki'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that surely ran and ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid as number;

const state = (pid: number): StackState => ({
  pid,
  startedAt: '2026-01-01T00:00:00.000Z',
  ports: { gateway: 4443, dynamoDb: 4800, stepFunctions: 4083, xrayDaemon: 4200, traces: 4300 },
  gatewayUrl: 'https://localhost:4443',
  dynamoDbEndpoint: 'http://127.0.0.1:4800',
  stepFunctionsEndpoint: 'http://127.0.0.1:4083',
  secretsManagerEndpoint: 'http://127.0.0.1:4900',
  parameterOverrides: {},
  truststore: join(dir, 'pki', 'ca.pem'),
  trustsDevCa: true,
  trustsRogueCa: false,
  pkiDir: join(dir, 'pki'),
  dataDir: join(dir, 'dynamodb'),
  grantCacheSeconds: 30,
  bindAddress: '127.0.0.1',
});

describe('the state file', () => {
  const stateDir = () => mkdtempSync(join(dir, 'local-'));

  it('is claimed once: a second claim by another live process names the first', () => {
    const local = stateDir();
    claimStackState(local, process.pid);
    expect(runningStack(local)).toBeUndefined(); // still starting: no ports yet
    writeStackState(state(process.pid), local);
    expect(runningStack(local)).toMatchObject({ pid: process.pid, gatewayUrl: 'https://localhost:4443' });
    const second = (() => {
      try {
        claimStackState(local, process.ppid);
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(second).toBeInstanceOf(StackAlreadyRunningError);
    expect((second as Error).message).toBe(
      `A local stack is already running in this checkout: pid ${process.pid} on https://localhost:4443 (DynamoDB port 4800, Step Functions API port 4083). Stop it first (Ctrl-C in its terminal, or kill ${process.pid}).`,
    );
    releaseStackState(local, process.ppid); // not the holder: nothing happens
    expect(existsSync(stackStatePath(local))).toBe(true);
    releaseStackState(local, process.pid);
    expect(existsSync(stackStatePath(local))).toBe(false);
  });

  it('left by a process that is gone is stale: ignored by readers, replaced by the next start', () => {
    const local = stateDir();
    writeStackState(state(deadPid()), local);
    expect(runningStack(local)).toBeUndefined();
    claimStackState(local, process.pid);
    expect(JSON.parse(readFileSync(stackStatePath(local), 'utf8'))).toMatchObject({ pid: process.pid });
    writeFileSync(stackStatePath(local), 'not json');
    expect(runningStack(local)).toBeUndefined();
  });

  it("gives the tools the running stack's ports unless their environment names ports", () => {
    const local = stateDir();
    writeStackState(state(process.pid), local);
    expect(targetPorts({ LOCAL_STACK_DIR: local })).toEqual({
      gateway: 4443,
      dynamoDb: 4800,
      stepFunctions: 4083,
      xrayDaemon: 4200,
      traces: 4300,
    });
    expect(discoverStack({ LOCAL_STACK_DIR: local, DYNAMODB_PORT: '9000' })).toBeUndefined();
    expect(targetPorts({ LOCAL_STACK_DIR: local, DYNAMODB_PORT: '9000' })).toEqual({
      gateway: 3443,
      dynamoDb: 9000,
      stepFunctions: 8083,
      xrayDaemon: 2000,
      traces: 3000,
    });
    expect(targetPorts({ LOCAL_STACK_DIR: stateDir() })).toEqual({
      gateway: 3443,
      dynamoDb: 8000,
      stepFunctions: 8083,
      xrayDaemon: 2000,
      traces: 3000,
    });
  });
});

describe("the banner's answers follow the truststore", () => {
  const input = (overrides: Partial<BannerInput>): BannerInput => ({
    url: 'https://localhost:4443',
    stepFunctionsEndpoint: undefined,
    dynamoDbEndpoint: 'http://127.0.0.1:4800',
    truststorePath: '/x/ca.pem',
    pkiDir: '/abs/.local/pki',
    dataDir: '/abs/.local/dynamodb',
    statePath: '/abs/.local/stack.json',
    trustsDevCa: true,
    trustsRogueCa: false,
    iam: 'enforced',
    ...overrides,
  });

  it('knows which CAs a bundle holds', () => {
    expect(bundleHolds(pki.ca.certPem, pki.ca.certPem)).toBe(true);
    expect(bundleHolds(pki.ca.certPem + pki.rogueCa.certPem, pki.rogueCa.certPem)).toBe(true);
    expect(bundleHolds(pki.rogueCa.certPem, pki.ca.certPem)).toBe(false);
  });

  it('the dev CA trusted: 200 and 403 as labelled, absolute paths', () => {
    const banner = stackBanner(input({}));
    expect(banner).toContain('posts the reference finding (200)');
    expect(banner).toContain('reads org1 (200)');
    expect(banner).toContain('never reaches a route (403)');
    expect(banner).toContain(
      '--cacert /abs/.local/pki/ca.pem --cert /abs/.local/pki/scanner.pem --key /abs/.local/pki/scanner-key.pem',
    );
  });

  it('says whether IAM is enforced, and how to turn it off', () => {
    expect(stackBanner(input({}))).toContain('IAM:        enforced on every call');
    expect(stackBanner(input({}))).toContain('--no-iam');
    expect(stackBanner(input({ iam: 'off' }))).toContain('IAM:        OFF (--no-iam)');
  });

  it('another truststore: the dev certificates are labelled refused, the rogue one trusted where it is', () => {
    const banner = stackBanner(input({ trustsDevCa: false, trustsRogueCa: true, pkiDir: "/my dir/it's" }));
    expect(banner).not.toContain('(200)');
    expect(banner).toContain('reads org1 (403: the truststore does not hold the dev CA');
    expect(banner).toContain('this certificate is TRUSTED');
    expect(banner).not.toContain('never reaches a route');
    expect(banner).toContain(`--cacert '/my dir/it'\\''s/ca.pem'`);
  });
});

describe('start-up', () => {
  it('failures are one sentence; DEBUG=1 adds the stack', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:3443'), {
      code: 'EADDRINUSE',
    });
    expect(startFailure(inUse, {})).toBe(
      'A port is already in use (listen EADDRINUSE: address already in use 127.0.0.1:3443); set PORT, DYNAMODB_PORT, SFN_PORT, XRAY_DAEMON_PORT or TRACES_PORT to free ports, or stop what listens there.',
    );
    expect(startFailure(new PemBundleError('truststore/ca.pem: no certificate'), {})).toBe(
      'refusing to start: truststore/ca.pem: no certificate',
    );
    expect(startFailure(new Error('boom'), {})).toBe('npm start failed: boom');
    expect(startFailure(new Error('boom'), { DEBUG: '1' })).toMatch(/^npm start failed: boom\nError: boom\n\s+at /);
  });

  it('--bind-address takes an IP address only, and the warning says what it exposes', () => {
    expect(startOptions(['--bind-address', '172.17.0.1'], dir).bindAddress).toBe('172.17.0.1');
    expect(startOptions([], dir).bindAddress).toBeUndefined();
    expect(() => startOptions(['--bind-address', 'example.com'], dir)).toThrow(/must be an IP address/);
    expect(bindAddressWarning('0.0.0.0')).toMatch(
      /check no credentials: anyone who reaches that address can read and change every table/,
    );
  });

  it('writes the env-vars file `sam local invoke` needs to reach the stack from a container', () => {
    expect(samEnvVars({ dynamoDb: 8000, secretsManager: 39001 })).toEqual({
      Parameters: {
        AWS_ENDPOINT_URL_DYNAMODB: 'http://host.docker.internal:8000',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://host.docker.internal:39001',
      },
    });
  });
});
