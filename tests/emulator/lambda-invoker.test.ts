/** The local invoker behaves like Lambda where the state machine can tell the difference. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalFunctions, functionDefinitions, LambdaFunctionError, type LocalFunctionDefinition } from '../../local/lambda/invoker';
import { LocalResolver } from '../../local/cloudformation/intrinsics';
import { loadTemplate } from '../../local/cloudformation/template';

const directory = mkdtempSync(join(tmpdir(), 'invoker-'));
const entryPoint = join(directory, 'handler.js');
writeFileSync(
  entryPoint,
  `exports.handler = async (event, context) => {
     if (event.fail) { const e = new Error('boom'); e.name = 'TransientError'; throw e; }
     if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
     return { echo: event, when: new Date(0), fn: context.functionName, env: process.env.TEST_INVOKER_VALUE, remaining: context.getRemainingTimeInMillis() > 0 };
   };`,
);
const definition: LocalFunctionDefinition = {
  logicalId: 'TestFunction',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:TestFunction',
  entryPoint,
  exportName: 'handler',
  timeoutSeconds: 0.2,
  memoryMb: 128,
  environment: { TEST_INVOKER_VALUE: 'from-template' },
};
const functions = createLocalFunctions([definition]);

test('results are JSON as Lambda returns them, with a context and the template environment', async () => {
  await expect(functions.invoke('TestFunction', { a: 1 })).resolves.toEqual({
    echo: { a: 1 },
    when: '1970-01-01T00:00:00.000Z',
    fn: 'TestFunction',
    env: 'from-template',
    remaining: true,
  });
  await expect(functions.invoke(definition.arn, {})).resolves.toMatchObject({ fn: 'TestFunction' });
});

test('a thrown error is reported as Lambda does: name = errorType, message = JSON cause', async () => {
  const error = (await functions.invoke('TestFunction', { fail: true }).catch((e: unknown) => e)) as LambdaFunctionError;
  expect(error).toBeInstanceOf(LambdaFunctionError);
  expect(error.name).toBe('TransientError');
  const cause = JSON.parse(error.message) as { errorType: string; errorMessage: string; trace: string[] };
  expect(cause).toMatchObject({ errorType: 'TransientError', errorMessage: 'boom' });
  expect(Array.isArray(cause.trace)).toBe(true);
});

test('the function timeout is enforced', async () => {
  await expect(functions.invoke('TestFunction', { sleep: 1000 })).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
});

test('an unknown function is refused', async () => {
  await expect(functions.invoke('Nope', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});

test('definitions come from the template: entry point, timeout and resolved environment', () => {
  const template = loadTemplate();
  const resolver = new LocalResolver(template, { refs: { FindingsTable: 'FindingsTable', AuthzTable: 'AuthzTable', PageTokenSecret: 'PageTokenSecret' }, attributes: {} });
  const write = functionDefinitions(template, resolver).find((item) => item.logicalId === 'WriteFunction');
  expect(write?.entryPoint).toMatch(/functions\/write\/handler\.ts$/);
  expect(write?.environment.FINDINGS_TABLE_NAME).toBe('FindingsTable');
  expect(write?.environment.POWERTOOLS_SERVICE_NAME).toBe('vulnerability-api');
  expect(write?.exportName).toBe('handler');
});
