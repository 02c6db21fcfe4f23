/** The local Step Functions API answers @aws-sdk/client-sfn as the real service would. */
import { DescribeStateMachineCommand, SFNClient, StartSyncExecutionCommand, StateMachineDoesNotExist } from '@aws-sdk/client-sfn';
import { startBackend, type LocalBackend } from '../../local/backend';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-local';
import { PROJECT_ROOT } from '../../local/cloudformation/template';

let backend: LocalBackend;
let sfn: SFNClient;

beforeAll(async () => {
  backend = await startBackend({ dynamoDbPort: 0, stepFunctionsPort: 0, retryIntervalMs: 0, environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  // StartSyncExecution's endpoint is `sync-states…`: the SDK prefixes the host unless told not to.
  sfn = new SFNClient({ endpoint: backend.stepFunctionsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, disableHostPrefix: true });
});

afterAll(async () => {
  sfn.destroy();
  await backend.close();
});

test('StartSyncExecution runs the ingestion machine and returns its {statusCode, body} output', async () => {
  const result = await sfn.send(
    new StartSyncExecutionCommand({ stateMachineArn: backend.stateMachine.arn, input: JSON.stringify({ body: { findings: [] }, requestId: 'sdk-1', sourceIp: '127.0.0.1', principal: {} }) }),
  );
  expect(result.status).toBe('SUCCEEDED');
  expect(result.startDate).toBeInstanceOf(Date);
  const output = JSON.parse(result.output as string) as { statusCode: number; body: string };
  expect(output.statusCode).toBe(400);
  expect(JSON.parse(output.body)).toMatchObject({ requestId: 'sdk-1', errors: [{ index: null, path: 'findings', message: 'must hold at least one finding' }] });
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
  await expect(sfn.send(new StartSyncExecutionCommand({ stateMachineArn: backend.stateMachine.arn, input: '{not json' }))).rejects.toMatchObject({
    name: 'InvalidExecutionInput',
  });
});

/** One POST as the AWS CLI sends it: JSON 1.0 protocol, to the `sync-` host it always uses for this call. */
function postAsTheCliDoes(port: string, body: string): Promise<{ status: number; text: string }> {
  const endpoint = new URL(backend.stepFunctionsEndpoint as string);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: endpoint.hostname,
        port: endpoint.port,
        method: 'POST',
        path: '/',
        headers: { Host: `sync-localhost:${port}`, 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.StartSyncExecution' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

test("the README's AWS CLI call runs the events' execution input through the machine", async () => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const command = /aws stepfunctions start-sync-execution --endpoint-url http:\/\/localhost:(\d+) \\\n\s+--state-machine-arn (\S+) \\\n\s+--input file:\/\/(\S+)/.exec(readme);
  expect(command).not.toBeNull();
  const [, port, arn, inputFile] = command as unknown as [string, string, string, string];
  expect(port).toBe('8083');
  expect(arn).toBe(backend.stateMachine.arn);
  const answer = await postAsTheCliDoes(port, JSON.stringify({ stateMachineArn: arn, input: readFileSync(join(PROJECT_ROOT, inputFile), 'utf8') }));
  expect(answer.status).toBe(200);
  const result = JSON.parse(answer.text) as { status: string; output: string };
  expect(result.status).toBe('SUCCEEDED');
  // No grant exists in this backend: the events' scanner certificate is refused, as it should be.
  const requestId = (JSON.parse(readFileSync(join(PROJECT_ROOT, inputFile), 'utf8')) as { requestId: string }).requestId;
  expect(JSON.parse(result.output)).toEqual({ statusCode: 403, body: JSON.stringify({ message: 'Forbidden', requestId }) });
});
