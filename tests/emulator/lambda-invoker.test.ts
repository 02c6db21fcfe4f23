/** The local invoker behaves like Lambda where a caller (the state machine, the gateway) can tell the difference. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  functionDefinitions,
  LambdaFunctionError,
  MAX_PAYLOAD_BYTES,
  startLocalFunctions,
  type LocalFunctionDefinition,
  type LocalFunctions,
} from '../../local/lambda/invoker';
import { LocalResolver } from '../../local/cloudformation/intrinsics';
import { loadTemplate } from '../../local/cloudformation/template';

const directory = mkdtempSync(join(tmpdir(), 'invoker-'));
const entryPoint = join(directory, 'handler.js');
writeFileSync(
  entryPoint,
  `let invocations = 0;
   const initializedAt = Date.now();
   exports.handler = async (event, context) => {
     invocations += 1;
     if (event.fail) { const e = new Error('boom'); e.name = 'TransientError'; throw e; }
     if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
     if (event.crash) process.exit(3);
     if (event.big) return 'x'.repeat(event.big);
     return {
       echo: event, when: new Date(0), fn: context.functionName, requestId: context.awsRequestId,
       env: process.env.TEST_INVOKER_VALUE, other: process.env.OTHER_FUNCTION_VALUE ?? null, path: process.env.PATH ?? null,
       perInvocation: process.env._X_AMZN_TRACE_ID ?? null, lambdaName: process.env.AWS_LAMBDA_FUNCTION_NAME,
       remaining: context.getRemainingTimeInMillis() > 0, invocations, initializedAt,
     };
   };`,
);
const definition = (
  logicalId: string,
  environment: Record<string, string>,
  extra: Partial<LocalFunctionDefinition> = {},
): LocalFunctionDefinition => ({
  logicalId,
  arn: `arn:aws:lambda:us-east-1:000000000000:function:${logicalId}`,
  entryPoint,
  build: { Minify: false },
  exportName: 'handler',
  timeoutSeconds: 0.5,
  memoryMb: 128,
  environment,
  ...extra,
});
const testFunction = definition('TestFunction', { TEST_INVOKER_VALUE: 'from-template' });
const logs: Record<string, unknown>[] = [];
let functions: LocalFunctions;

beforeAll(async () => {
  functions = await startLocalFunctions(
    [
      testFunction,
      // Same variable, another value: each function has its own environment, as in Lambda.
      definition('OtherFunction', { TEST_INVOKER_VALUE: 'other', OTHER_FUNCTION_VALUE: 'only-here' }),
      definition('ReservedFunction', {}, { reservedConcurrency: 1 }),
      definition('WideReservedFunction', {}, { reservedConcurrency: 3 }),
    ],
    { bundleDir: join(directory, 'bundles'), defaultConcurrency: 2, log: (entry) => logs.push(entry) },
  );
});

afterAll(async () => {
  await functions.close();
  rmSync(directory, { recursive: true, force: true });
});

interface Echo {
  echo: unknown;
  env: string;
  other: string | null;
  path: string | null;
  perInvocation: string | null;
  invocations: number;
  initializedAt: number;
  requestId: string;
}
const invoke = async (id: string, event: unknown, options = {}) => (await functions.invoke(id, event, options)) as Echo;

test('results are JSON as Lambda returns them, with a context and the template environment', async () => {
  await expect(functions.invoke('TestFunction', { a: 1 }, { requestId: 'request-1' })).resolves.toMatchObject({
    echo: { a: 1 },
    when: '1970-01-01T00:00:00.000Z',
    fn: 'TestFunction',
    requestId: 'request-1',
    env: 'from-template',
    lambdaName: 'TestFunction',
    remaining: true,
  });
  await expect(functions.invoke(testFunction.arn, {})).resolves.toMatchObject({ fn: 'TestFunction' });
});

test("each function sees exactly its own variables, not another function's nor this process's", async () => {
  const [mine, other] = await Promise.all([invoke('TestFunction', {}), invoke('OtherFunction', {})]);
  expect(mine).toMatchObject({ env: 'from-template', other: null, path: null });
  expect(other).toMatchObject({ env: 'other', other: 'only-here' });
});

test('a warm environment is reused with its module state; a cold start is logged with its init duration', async () => {
  const first = await invoke('OtherFunction', {});
  const second = await invoke('OtherFunction', {});
  expect(second.initializedAt).toBe(first.initializedAt);
  expect(second.invocations).toBe(first.invocations + 1);
  const coldStarts = logs.filter((entry) => entry.message === 'cold start' && entry.functionName === 'OtherFunction');
  expect(coldStarts.length).toBeGreaterThanOrEqual(1);
  expect(coldStarts[0]?.initDurationMs).toEqual(expect.any(Number));
});

test('concurrent invocations get separate environments, up to the local limit, one invocation each', async () => {
  const results = await Promise.all([1, 2, 3].map(() => invoke('TestFunction', { sleep: 50 })));
  // Two environments at most (defaultConcurrency 2): the third invocation waited for a free one.
  expect(new Set(results.map((result) => result.initializedAt)).size).toBeLessThanOrEqual(2);
  expect(functions.stats().TestFunction?.environments).toBeLessThanOrEqual(2);
});

test('over its reserved concurrency a function is throttled as Lambda throttles it', async () => {
  const outcomes = await Promise.allSettled([
    invoke('ReservedFunction', { sleep: 100 }),
    invoke('ReservedFunction', { sleep: 100 }),
  ]);
  expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({
    reason: { name: 'TooManyRequestsException' },
  });
});

test('reserved concurrency counts invocations in flight, while this machine runs at most its limit of environments', async () => {
  // Three in flight is within the reservation of 3: all answered, by two environments (defaultConcurrency 2).
  const results = await Promise.all([1, 2, 3].map(() => invoke('WideReservedFunction', { sleep: 50 })));
  expect(new Set(results.map((result) => result.initializedAt)).size).toBeLessThanOrEqual(2);
  expect(functions.stats().WideReservedFunction?.environments).toBeLessThanOrEqual(2);
  // A fourth in flight is over it: throttled as Lambda throttles, although only two environments run.
  const outcomes = await Promise.allSettled([1, 2, 3, 4].map(() => invoke('WideReservedFunction', { sleep: 100 })));
  expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
  expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({
    reason: { name: 'TooManyRequestsException' },
  });
  // The slots come back: once those settle, a new invocation runs.
  await expect(invoke('WideReservedFunction', {})).resolves.toMatchObject({ lambdaName: 'WideReservedFunction' });
});

test('per-invocation variables are set for that invocation only', async () => {
  await expect(invoke('OtherFunction', {}, { environment: { _X_AMZN_TRACE_ID: 'Root=1-abc' } })).resolves.toMatchObject(
    { perInvocation: 'Root=1-abc' },
  );
  await expect(invoke('OtherFunction', {})).resolves.toMatchObject({ perInvocation: null });
});

test('a thrown error is reported as Lambda does: name = errorType, message = JSON cause', async () => {
  const error = (await functions
    .invoke('TestFunction', { fail: true })
    .catch((e: unknown) => e)) as LambdaFunctionError;
  expect(error).toBeInstanceOf(LambdaFunctionError);
  expect(error.name).toBe('TransientError');
  const cause = JSON.parse(error.message) as { errorType: string; errorMessage: string; trace: string[] };
  expect(cause).toMatchObject({ errorType: 'TransientError', errorMessage: 'boom' });
  expect(Array.isArray(cause.trace)).toBe(true);
});

test('the function timeout is enforced and the timed-out environment replaced', async () => {
  await expect(functions.invoke('TestFunction', { sleep: 5000 })).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
  await expect(invoke('TestFunction', {})).resolves.toMatchObject({ env: 'from-template' });
});

test('a runtime that exits fails the invocation and is replaced', async () => {
  await expect(functions.invoke('OtherFunction', { crash: true })).rejects.toMatchObject({ name: 'Runtime.ExitError' });
  await expect(invoke('OtherFunction', {})).resolves.toMatchObject({ env: 'other' });
});

test("payloads over Lambda's 6 MB quota fail as Lambda fails them", async () => {
  await expect(functions.invoke('TestFunction', { padding: 'x'.repeat(MAX_PAYLOAD_BYTES) })).rejects.toMatchObject({
    name: 'RequestTooLargeException',
  });
  await expect(functions.invoke('TestFunction', { big: MAX_PAYLOAD_BYTES + 1 })).rejects.toMatchObject({
    name: 'Function.ResponseSizeTooLarge',
  });
});

test('an unknown function is refused', async () => {
  await expect(functions.invoke('Nope', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});

test('definitions come from the template: entry point, timeout, reserved concurrency and resolved environment', () => {
  const template = loadTemplate();
  const resolver = new LocalResolver(template, {
    refs: {
      FindingsTable: 'FindingsTable',
      AuthzTable: 'AuthzTable',
      ScanRunsTable: 'ScanRunsTable',
      FindingHistoryTable: 'FindingHistoryTable',
      OrgSummaryTable: 'OrgSummaryTable',
      PageTokenSecret: 'PageTokenSecret',
      GetFindingsReservedConcurrency: '7',
    },
    attributes: {},
  });
  const definitions = functionDefinitions(template, resolver);
  const write = definitions.find((item) => item.logicalId === 'WriteFunction');
  expect(write?.entryPoint).toMatch(/functions\/write\/handler\.ts$/);
  expect(write?.environment.FINDINGS_TABLE_NAME).toBe('FindingsTable');
  expect(write?.environment.POWERTOOLS_SERVICE_NAME).toBe('vulnerability-api');
  expect(write?.exportName).toBe('handler');
  expect(write?.reservedConcurrency).toBeUndefined();
  expect(definitions.find((item) => item.logicalId === 'GetFindingsFunction')?.reservedConcurrency).toBe(7);
});
