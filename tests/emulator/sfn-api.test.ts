/** The local Step Functions API answers @aws-sdk/client-sfn as the real service would. */
import {
  DescribeStateMachineCommand,
  SFNClient,
  StartSyncExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { startBackend, type LocalBackend } from '../../local/backend';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-local';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { requireTool } from '../support/tools';

// The backend runs in this process: the CLI must run asynchronously or nothing would answer it.
const run = promisify(execFile);

let backend: LocalBackend;
let sfn: SFNClient;

beforeAll(async () => {
  backend = await startBackend({
    dynamoDbPort: 0,
    stepFunctionsPort: 0,
    retryIntervalMs: 0,
    environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  // StartSyncExecution's endpoint is `sync-states…`: the SDK prefixes the host unless told not to.
  sfn = new SFNClient({
    endpoint: backend.stepFunctionsEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    disableHostPrefix: true,
  });
});

afterAll(async () => {
  sfn.destroy();
  await backend.close();
});

test('StartSyncExecution runs the ingestion machine and returns its {statusCode, body} output', async () => {
  const result = await sfn.send(
    new StartSyncExecutionCommand({
      stateMachineArn: backend.stateMachine.arn,
      input: JSON.stringify({ body: { findings: [] }, requestId: 'sdk-1', sourceIp: '127.0.0.1', principal: {} }),
    }),
  );
  expect(result.status).toBe('SUCCEEDED');
  expect(result.startDate).toBeInstanceOf(Date);
  const output = JSON.parse(result.output as string) as { statusCode: number; body: string };
  expect(output.statusCode).toBe(400);
  expect(JSON.parse(output.body)).toMatchObject({
    requestId: 'sdk-1',
    errors: [{ index: null, path: 'findings', message: 'must hold at least one finding' }],
  });
});

test('DescribeStateMachine returns the substituted definition of an EXPRESS machine', async () => {
  const description = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: backend.stateMachine.arn }));
  expect(description.type).toBe('EXPRESS');
  expect(description.definition).not.toContain('${');
  expect(JSON.parse(description.definition as string).StartAt).toBe('Validate findings');
});

test('an unknown state machine is the service error, not a crash', async () => {
  await expect(
    sfn.send(new StartSyncExecutionCommand({ stateMachineArn: `${backend.stateMachine.arn}-missing`, input: '{}' })),
  ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
});

test('input that is not JSON is refused as the service refuses it', async () => {
  await expect(
    sfn.send(new StartSyncExecutionCommand({ stateMachineArn: backend.stateMachine.arn, input: '{not json' })),
  ).rejects.toMatchObject({
    name: 'InvalidExecutionInput',
  });
});

/** The README's AWS CLI block: its environment assignments and the command, continued with backslashes. */
function readmeCliCommand(): { environment: Record<string, string>; args: string[] } {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /```sh\n((?:[A-Z_]+=\S+ )+)\\\n\s+aws (stepfunctions start-sync-execution[^`]*)```/.exec(readme);
  if (!block) throw new Error('README has no AWS CLI start-sync-execution example');
  const environment = Object.fromEntries(
    (block[1] as string)
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('=') as [string, string]),
  );
  const args = (block[2] as string).replace(/\\\n/g, ' ').trim().split(/\s+/);
  return { environment, args };
}

test("the README's AWS CLI call, run as written with the AWS CLI, runs the events' execution input through the machine", async () => {
  requireTool('aws', ['--version'], 'apt-get install awscli (or pip install awscli)');
  const { environment, args } = readmeCliCommand();
  expect(environment).toMatchObject({ AWS_DISABLE_HOST_PREFIX_INJECTION: 'true' });
  expect(args).toContain('--endpoint-url');
  const localPort = new URL(backend.stepFunctionsEndpoint as string).port;
  const patched = args.map((arg) => arg.replace('http://localhost:8083', `http://localhost:${localPort}`));
  expect(patched).toContain(backend.stateMachine.arn);
  const { stdout } = await run('aws', patched, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...environment },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const result = JSON.parse(stdout) as { status: string; output: string };
  expect(result.status).toBe('SUCCEEDED');
  // No grant exists in this backend: the events' scanner certificate is refused, as it should be.
  const inputFile = (args[args.indexOf('--input') + 1] as string).replace('file://', '');
  const requestId = (JSON.parse(readFileSync(join(PROJECT_ROOT, inputFile), 'utf8')) as { requestId: string })
    .requestId;
  expect(JSON.parse(result.output)).toEqual({
    statusCode: 403,
    body: JSON.stringify({ message: 'Forbidden', requestId }),
  });
});
