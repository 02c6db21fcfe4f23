/** The local Step Functions API answers @aws-sdk/client-sfn as the real service would. */
import { DescribeStateMachineCommand, SFNClient, StartSyncExecutionCommand, StateMachineDoesNotExist } from '@aws-sdk/client-sfn';
import { startBackend, type LocalBackend } from '../../local/backend';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-local';

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
