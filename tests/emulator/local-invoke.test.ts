/**
 * `npm run invoke` (local/lambda/local-invoke.ts): every function event in events/ runs through its
 * function in the stack's execution-environment code, against a running stack's tables, with the
 * template's environment and SAM CLI's --env-vars rules, and reports as Lambda does. The command
 * itself (cli/invoke.ts) finds the stack through the state file and prints only the result on stdout.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { EVENTS_DIR, EXAMPLE_FINDING, EXAMPLE_RUN, EXAMPLE_RUN_ID, EXAMPLE_SCAN_FINDING } from '../support/events';
import { identityFromPem } from '../../functions/shared/core/identity';
import type { Method } from '../../functions/shared/core/authz-policy';
import { normalizeFinding } from '../../functions/shared/core/normalize';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { openExampleRun } from '../support/scan-runs';
import { startBackend, type LocalBackend } from '../../local/backend';
import { localDynamoDbClient } from '../../local/dynamodb/server';
import { loadTemplate, PROJECT_ROOT } from '../../local/cloudformation/template';
import {
  envVarsOverrides,
  functionEnvironment,
  InvokeUsageError,
  localFunctionDefinitions,
  localInvoke,
  reportLine,
  type InvokeTarget,
} from '../../local/lambda/local-invoke';
import type { StackState } from '../../local/stack-state';

const run = promisify(execFile);
const template = loadTemplate();
const readEvent = (name: string) =>
  JSON.parse(readFileSync(resolve(EVENTS_DIR, name), 'utf8')) as Record<string, unknown>;
/** events/<name>.json → the function whose entry point is functions/<name>/handler.ts. */
const functionForFile = new Map(
  localFunctionDefinitions(template).flatMap((definition) => {
    const match = /^functions\/([a-z0-9-]+)\/handler\.ts$/.exec(relative(PROJECT_ROOT, definition.entryPoint));
    return match ? [[`${match[1]}.json`, definition.logicalId] as const] : [];
  }),
);
const REPORT =
  /^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms$/;

let backend: LocalBackend;
let client: DynamoDBClient;
let target: InvokeTarget;

beforeAll(async () => {
  backend = await startBackend({ dynamoDbPort: 0, environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  client = localDynamoDbClient(backend.dynamoDbEndpoint);
  // Grants read at once: the invocations below come right after the grants are written.
  target = {
    dynamoDbEndpoint: backend.dynamoDbEndpoint,
    secretsManagerEndpoint: backend.secretsManagerEndpoint,
    parameterOverrides: { GrantCacheSeconds: '0' },
  };
  // One grant per OU, with every method its events need (the dashboard's events read and triage).
  const methods = new Map<string, Set<Method>>();
  for (const [name, method] of [
    ['authorize.json', 'POST'],
    ['get-findings.json', 'GET'],
    ['get-scan-run.json', 'GET'],
    ['triage-findings.json', 'TRIAGE'],
    ['get-finding-history.json', 'GET'],
    ['get-org-summary.json', 'GET'],
  ] as const) {
    const event = readEvent(name);
    const pem =
      (event.principal as { certPem?: string } | undefined)?.certPem ??
      (event.requestContext as { identity: { clientCert: { clientCertPem: string } } }).identity.clientCert
        .clientCertPem;
    const ou = identityFromPem(pem).organizationalUnits[0] ?? '';
    methods.set(ou, new Set([...(methods.get(ou) ?? []), method]));
  }
  for (const [ou, granted] of methods)
    await putGrant(client, backend.tableNames.AuthzTable, ou, { methods: [...granted], orgs: ['org1'] });
});

afterAll(async () => {
  client?.destroy();
  await backend?.close();
});

describe('every function event in events/', () => {
  const expected: Record<string, (payload: unknown, event: Record<string, unknown>) => void> = {
    'validate.json': (payload, event) =>
      expect(payload).toEqual({ valid: true, findings: (event.body as { findings: unknown[] }).findings, runId: null }),
    'normalize.json': (payload) => expect(payload).toHaveLength(2),
    'authorize.json': (payload) => expect(payload).toMatchObject({ allowed: true, ou: 'scanner' }),
    'write.json': (payload, event) => expect(payload).toMatchObject({ accepted: 2, requestId: event.requestId }),
    'get-findings.json': (payload) => {
      const { statusCode, body } = payload as { statusCode: number; body: string };
      expect(statusCode).toBe(200);
      expect(JSON.parse(body)).toMatchObject({
        org: 'org1',
        items: [expect.objectContaining({ VulnID: EXAMPLE_SCAN_FINDING.VulnID })],
      });
    },
    'scan-runs.json': (payload) => expect(payload).toMatchObject({ valid: true, run: EXAMPLE_RUN }),
    'close-run.json': (payload) =>
      expect(payload).toEqual({ runId: EXAMPLE_RUN_ID, cursor: null, more: false, fixed: 0 }),
    'get-scan-run.json': (payload) => {
      const { statusCode, body } = payload as { statusCode: number; body: string };
      expect(statusCode).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ runId: EXAMPLE_RUN_ID, state: 'open' });
    },
    'finding-events.json': (payload) => expect(payload).toEqual({ batchItemFailures: [] }),
    'get-finding-history.json': (payload) => {
      const { statusCode, body } = payload as { statusCode: number; body: string };
      expect(statusCode).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ org: 'org1', items: expect.any(Array) });
    },
    'get-org-summary.json': (payload) => {
      const { statusCode, body } = payload as { statusCode: number; body: string };
      expect(statusCode).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ org: 'org1' });
    },
    'triage-findings.json': (payload) => {
      const { statusCode, body } = payload as { statusCode: number; body: string };
      expect(statusCode).toBe(200);
      expect(JSON.parse(body)).toMatchObject({
        processed: [{ index: 0, vulnId: EXAMPLE_FINDING.VulnID, workflow: 'ACKNOWLEDGED' }],
        unprocessed: [],
      });
    },
  };

  it('has one expectation per function event', () => {
    expect([...functionForFile.keys()].sort()).toEqual(Object.keys(expected).sort());
  });

  it.each([...functionForFile.entries()])(
    '%s runs through %s against the stack, with a REPORT line',
    async (name, functionId) => {
      if (name === 'close-run.json' || name === 'get-scan-run.json')
        await openExampleRun(client, backend.tableNames.ScanRunsTable as string);
      if (name === 'triage-findings.json') {
        const reference = {
          ...normalizeFinding(EXAMPLE_FINDING),
          FirstSeen: '2025-01-01T00:00:00.000Z',
          LastSeen: '2025-01-01T00:00:00.000Z',
        };
        await client.send(
          new PutItemCommand({ TableName: backend.tableNames.FindingsTable, Item: marshall(reference) }),
        );
      }
      if (name === 'get-findings.json') {
        const stored = {
          ...normalizeFinding(EXAMPLE_SCAN_FINDING),
          FirstSeen: '2025-01-01T00:00:00.000Z',
          LastSeen: '2025-01-01T00:00:00.000Z',
        };
        await client.send(new PutItemCommand({ TableName: backend.tableNames.FindingsTable, Item: marshall(stored) }));
      }
      const output: string[] = [];
      const event = readEvent(name);
      const result = await localInvoke({
        functionId,
        event,
        target,
        envVars: { Parameters: { POWERTOOLS_LOG_LEVEL: 'INFO' } },
        output: (_stream, text) => output.push(text),
      });
      expect(result.ok).toBe(true);
      expected[name]?.(result.payload, event);
      expect(reportLine(result.report)).toMatch(REPORT);
      expect(result.report.requestId).toBe(result.requestId);
      expect(output.join('')).not.toContain('BEGIN CERTIFICATE');
    },
  );
});

test("the environment is the template's, resolved as the stack resolves it, with the stack's parameter overrides", async () => {
  const result = await localInvoke({ functionId: 'AuthorizeFunction', event: readEvent('authorize.json'), target });
  expect(result.environment).toMatchObject({
    POWERTOOLS_SERVICE_NAME: 'vulnerability-api',
    AUTHZ_TABLE_NAME: 'AuthzTable',
    GRANT_CACHE_SECONDS: '0',
  });
});

test("a failing function gives Lambda's error payload, and still a REPORT line", async () => {
  const result = await localInvoke({ functionId: 'WriteFunction', event: { findings: 'not a list' }, target });
  expect(result.ok).toBe(false);
  expect(result.payload).toMatchObject({
    errorType: expect.any(String),
    errorMessage: expect.any(String),
    trace: expect.any(Array),
  });
  expect(reportLine(result.report)).toMatch(REPORT);
});

describe("SAM CLI's --env-vars rules", () => {
  const declared = { LOG_LEVEL: 'INFO', TABLE: 'AuthzTable', FLAG: 'x' };

  it("applies Parameters to every function and the function's own entry over it", () => {
    const file = {
      Parameters: { LOG_LEVEL: 'DEBUG', TABLE: 'p' },
      AuthorizeFunction: { TABLE: 'own' },
      WriteFunction: { TABLE: 'other' },
    };
    expect(envVarsOverrides(file, 'AuthorizeFunction')).toEqual({ LOG_LEVEL: 'DEBUG', TABLE: 'own' });
    expect(functionEnvironment(declared, envVarsOverrides(file, 'AuthorizeFunction'))).toEqual({
      LOG_LEVEL: 'DEBUG',
      TABLE: 'own',
      FLAG: 'x',
    });
  });

  it('sets only declared variables; the shell fills declared ones below the file; objects, lists and null become "", booleans words', () => {
    const overrides = { UNDECLARED: 'ignored', FLAG: true, TABLE: { Ref: 'X' } };
    expect(functionEnvironment(declared, overrides, { LOG_LEVEL: 'WARN', FLAG: 'shell', OTHER: 'ignored' })).toEqual({
      LOG_LEVEL: 'WARN',
      TABLE: '',
      FLAG: 'true',
    });
    expect(functionEnvironment({ A: '1', B: '2' }, { A: null, B: false })).toEqual({ A: '', B: 'false' });
  });

  it.each([[[1]], ['text'], [{ Parameters: 'x' }], [{ AuthorizeFunction: [] }]])('refuses %j', (file) => {
    expect(() => envVarsOverrides(file, 'AuthorizeFunction')).toThrow(InvokeUsageError);
  });

  it("an override reaches the running function, and the function's log lines are captured whole", async () => {
    const logs = async (envVars: unknown) => {
      const output: string[] = [];
      await localInvoke({
        functionId: 'AuthorizeFunction',
        event: readEvent('authorize.json'),
        target,
        envVars,
        output: (_s, text) => output.push(text),
      });
      return output.join('');
    };
    // The authorization decision is logged at INFO; the environment's output is drained before the result returns.
    expect(await logs({ Parameters: { POWERTOOLS_LOG_LEVEL: 'INFO' } })).toMatch(
      /"level":"INFO".*"service":"vulnerability-api"/,
    );
    expect(
      await logs({
        Parameters: { POWERTOOLS_LOG_LEVEL: 'INFO' },
        AuthorizeFunction: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
      }),
    ).not.toContain('"level":"INFO"');
  });
});

test("an unknown function is a usage error naming the template's functions", async () => {
  await expect(localInvoke({ functionId: 'NoSuchFunction', event: {}, target })).rejects.toThrow(
    /NoSuchFunction is not a function of template.yaml; its functions are .*ValidateFunction/,
  );
});

describe('npm run invoke (the command)', () => {
  let dir: string;
  const command = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', 'cli/invoke.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LOCAL_STACK_DIR: dir, ...env },
      timeout: 60_000,
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vuln-api-invoke-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says so when no stack runs in the checkout', async () => {
    await expect(command(['ValidateFunction', '-e', 'events/validate.json'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no local stack is running'),
    });
  });

  it('finds the stack through .local/stack.json and prints only the result on stdout', async () => {
    // This test process stands in for `npm start`: a live pid, the backend's endpoints.
    const state: Partial<StackState> = {
      pid: process.pid,
      ports: { gateway: 1, dynamoDb: 1, stepFunctions: 1, xrayDaemon: 1, traces: 1 },
      gatewayUrl: 'https://localhost:1',
      dynamoDbEndpoint: backend.dynamoDbEndpoint,
      secretsManagerEndpoint: backend.secretsManagerEndpoint,
      parameterOverrides: {},
    };
    writeFileSync(join(dir, 'stack.json'), JSON.stringify(state));
    const envVars = join(dir, 'env-vars.json');
    writeFileSync(envVars, JSON.stringify({ Parameters: { POWERTOOLS_LOG_LEVEL: 'INFO' } }));
    // An empty batch: Validate answers { valid: false } and logs the rejection.
    const eventFile = join(dir, 'invalid.json');
    writeFileSync(eventFile, JSON.stringify({ body: { findings: [] }, requestId: 'invoke-test' }));
    const { stdout, stderr } = await command(['ValidateFunction', '-e', eventFile, '--env-vars', envVars]);
    expect(JSON.parse(stdout)).toMatchObject({ valid: false });
    const lines = stderr.split('\n');
    const requestId = /^START RequestId: ([0-9a-f-]{36}) Version: \$LATEST$/m.exec(stderr)?.[1];
    expect(requestId).toBeDefined();
    expect(lines).toContain(`END RequestId: ${requestId}`);
    expect(lines.find((line) => line.startsWith('REPORT'))).toMatch(REPORT);
    expect(stderr.indexOf('START')).toBeLessThan(stderr.indexOf('"service":"vulnerability-api"'));
    expect(stderr.indexOf('"service":"vulnerability-api"')).toBeLessThan(stderr.indexOf('END RequestId'));

    await expect(command(['WriteFunction', '-e', 'events/validate.json'])).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('"errorType"'),
    });
    await expect(command(['NoSuchFunction'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('is not a function of template.yaml'),
    });
    await expect(command(['ValidateFunction', '-n', join(dir, 'missing.json')])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--env-vars: cannot read'),
    });
  });
});

afterAll(async () => {
  await client
    ?.send(
      new DeleteItemCommand({
        TableName: 'FindingsTable',
        Key: marshall({ Org: 'org1', VulnID: EXAMPLE_SCAN_FINDING.VulnID }),
      }),
    )
    .catch(() => undefined);
});
