/** `npm run smoke` runs events/ingest-execution.json through the Step Functions API and checks the answers. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { portOf, startTestStack, type TestStack } from '../support/local-stack';

const run = promisify(execFile);
const SMOKE = ['--import', 'tsx', 'cli/smoke.ts'];
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ stepFunctionsApi: true });
});

afterAll(async () => {
  await stack?.close();
});

test('against the local Step Functions API on $SFN_PORT: three PASS lines and exit code 0', async () => {
  const port = portOf(stack.stack.backend.stepFunctionsEndpoint as string);
  const { stdout } = await run(process.execPath, SMOKE, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SFN_PORT: String(port) },
  });
  expect(stdout).toContain(`local Step Functions API http://127.0.0.1:${port}`);
  expect(stdout.match(/^PASS /gm)).toHaveLength(3);
  expect(stdout).toContain('3/3 passed');
});

test('--region without --stack is a usage error', async () => {
  await expect(run(process.execPath, [...SMOKE, '--region', 'eu-west-1'], { cwd: PROJECT_ROOT })).rejects.toMatchObject(
    { code: 2 },
  );
});
