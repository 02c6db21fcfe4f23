/**
 * The real scan-runs and close-run machines on the local backend (issue 21), the functions' DynamoDB calls going
 * through a fault proxy: a function that gets no answer times out (Sandbox.Timedout) and the machine answers 503
 * as ingestion does; a start of the close whose answer was lost, retried, starts one close, whether the first is
 * still running or already ended; and the local Step Functions API keeps execution names as StartExecution does.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  InvalidExecutionInput,
  InvalidName,
  SFNClient,
  StartExecutionCommand,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localFunctionArn } from '../../local/aws-local';
import type { LocalBackend } from '../../local/backend';
import { loadTemplate } from '../../local/cloudformation/template';
import { startStepFunctionsApi, type LocalStepFunctionsApi } from '../../local/stepfunctions/api';
import {
  createLocalStateMachine,
  type ExecutionStarter,
  type LocalStateMachine,
} from '../../local/stepfunctions/state-machine';
import type { FaultProxy } from '../support/fault-proxy';
import { startProxiedBackend, type ProxiedBackend } from '../support/proxied-backend';

let backend: LocalBackend;
let proxy: FaultProxy;
let client: DynamoDBClient;
let scannerPem: string;
let counter = 0;

let setup: ProxiedBackend;

beforeAll(async () => {
  setup = await startProxiedBackend(['org1']);
  ({ backend, proxy, client, scannerPem } = setup);
});

afterEach(() => {
  proxy.failing.clear();
  proxy.releaseHeld();
  proxy.fault = 'throttle';
});

afterAll(async () => {
  await setup?.close();
});

/** The functions' DynamoDB `operation` gets no answer until the test ends (the proxy holds it). */
function hang(operation: string): void {
  proxy.fault = 'hang';
  proxy.failing.add(operation);
}

async function execute(machine: LocalStateMachine, input: Record<string, unknown>) {
  counter += 1;
  const result = await machine.startSyncExecution(
    JSON.stringify({
      requestId: `request-${counter}`,
      sourceIp: '127.0.0.1',
      principal: { certPem: scannerPem },
      ...input,
    }),
  );
  expect(result.status).toBe('SUCCEEDED');
  const output = JSON.parse(result.output as string) as { statusCode: number; body: string };
  return { statusCode: output.statusCode, body: JSON.parse(output.body) as Record<string, unknown> };
}

const scanRunsMachine = () => backend.stateMachines.ScanRunsStateMachine as LocalStateMachine;
const closeMachine = () => backend.stateMachines.CloseRunStateMachine as LocalStateMachine;

async function openRun(): Promise<string> {
  const opened = await execute(scanRunsMachine(), {
    action: 'open',
    body: { org: 'org1', scanner: 'nessus', scannedAt: new Date().toISOString() },
  });
  expect(opened.statusCode).toBe(201);
  return opened.body.runId as string;
}

async function stateOf(runId: string): Promise<string> {
  const item = await client.send(
    new GetItemCommand({
      TableName: backend.tableNames.ScanRunsTable,
      Key: marshall({ RunId: runId }),
      ConsistentRead: true,
    }),
  );
  return String(unmarshall(item.Item ?? {}).State);
}

test('a function that times out (Sandbox.Timedout) is a 503 with the request id, as ingestion answers, and changes nothing', async () => {
  const runId = await openRun();
  // "Read the run" gets no answer from DynamoDB: the scan-runs function runs out of its Timeout.
  hang('GetItem');
  const answer = await execute(scanRunsMachine(), { action: 'complete', runId });
  expect(answer).toEqual({
    statusCode: 503,
    body: { message: 'Service temporarily unavailable', requestId: `request-${counter}` },
  });
  proxy.failing.clear();
  proxy.releaseHeld();
  expect(await stateOf(runId)).toBe('open');
  expect((await execute(scanRunsMachine(), { action: 'complete', runId })).statusCode).toBe(202);
  await closeMachine().settled();
  expect(await stateOf(runId)).toBe('closed');
});

describe('a start of the close whose answer was lost, retried by the machine, starts one close', () => {
  /** The scan-runs machine, starting the real close-run machine; the first start's answer is lost after `when`. */
  function losingFirstAnswer(when: 'running' | 'ended') {
    const calls: { executionArn?: string; error?: string }[] = [];
    const startExecution: ExecutionStarter = async (_arn, input, name) => {
      try {
        const started = await closeMachine().startExecution(input, name);
        calls.push({ executionArn: started.executionArn });
        if (calls.length > 1) return started;
      } catch (error) {
        calls.push({ error: (error as Error).name });
        throw error;
      }
      if (when === 'ended') await closeMachine().settled();
      throw Object.assign(new Error('socket hang up'), { name: 'StepFunctions.SdkClientException' });
    };
    const machine = createLocalStateMachine(
      'ScanRunsStateMachine',
      loadTemplate(),
      backend.resolver,
      backend.functions,
      { retryIntervalMs: 0, startExecution },
    );
    return { machine, calls };
  }

  test('while the first is running: the same execution answers again', async () => {
    const runId = await openRun();
    // The close's Query gets no answer: the first execution is still running when the start is retried.
    hang('Query');
    const { machine, calls } = losingFirstAnswer('running');
    expect((await execute(machine, { action: 'complete', runId })).statusCode).toBe(202);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual(calls[0]);
    proxy.failing.clear();
    proxy.releaseHeld();
    await closeMachine().settled();
    expect(await stateOf(runId)).toBe('closed');
  });

  test('after the first ended: ExecutionAlreadyExists, which the machine takes as started (202)', async () => {
    const runId = await openRun();
    const { machine, calls } = losingFirstAnswer('ended');
    expect((await execute(machine, { action: 'complete', runId })).statusCode).toBe(202);
    expect(calls).toEqual([{ executionArn: expect.any(String) }, { error: 'ExecutionAlreadyExists' }]);
    expect(await stateOf(runId)).toBe('closed');
  });
});

test('every complete of a closing run answers its pass under the same name (one execution), a closed run none', async () => {
  const runId = await openRun();
  const beginClosing = (requestId: string) =>
    backend.functions.invoke(localFunctionArn('ScanRunsFunction'), {
      operation: 'begin-closing',
      runId,
      requestId,
    }) as Promise<{ start: boolean; executionName?: string }>;
  const first = await beginClosing('complete-1');
  expect(first).toMatchObject({ start: true, executionName: expect.stringMatching(new RegExp(`^${runId}-\\d{13}$`)) });
  // The step run again after its write landed (a Lambda service error), or another complete: the same pass.
  expect(await beginClosing('complete-1')).toEqual(first);
  expect(await beginClosing('complete-2')).toEqual(first);
  // The pass's execution, started (and ended) once; a second start under its name is refused, so nothing runs twice.
  await closeMachine().startExecution(JSON.stringify({ runId }), first.executionName);
  await closeMachine().settled();
  await expect(closeMachine().startExecution(JSON.stringify({ runId }), first.executionName)).rejects.toMatchObject({
    name: 'ExecutionAlreadyExists',
  });
  expect(await beginClosing('complete-3')).toEqual({ runId, start: false, state: 'closed' });
});

describe('the local Step Functions API keeps execution names as StartExecution does (Step Functions API Reference)', () => {
  let api: LocalStepFunctionsApi;
  let sfn: SFNClient;
  beforeAll(async () => {
    api = await startStepFunctionsApi(Object.values(backend.stateMachines));
    sfn = new SFNClient({ endpoint: api.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    sfn.destroy();
    await api.close();
  });
  const start = (name: string, input: string) =>
    sfn.send(new StartExecutionCommand({ stateMachineArn: closeMachine().arn, name, input }));

  test('same name and input while open: that execution; different input: ExecutionAlreadyExists; once closed: ExecutionAlreadyExists whatever the input', async () => {
    const runId = await openRun();
    hang('Query');
    const input = JSON.stringify({ runId });
    const first = await start(`again-${runId}`, input);
    expect(await start(`again-${runId}`, input)).toMatchObject({ executionArn: first.executionArn });
    await expect(start(`again-${runId}`, JSON.stringify({ runId, other: 1 }))).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    proxy.failing.clear();
    proxy.releaseHeld();
    await closeMachine().settled();
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    expect(described.status).toBe('SUCCEEDED');
    await expect(start(`again-${runId}`, input)).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  test('a name the API refuses is InvalidName (or, over 80 characters, ValidationException), and a refused input leaves its name unused', async () => {
    for (const name of ['has:colon', 'has space', 'run/1', 'a$b', 'tab\there', '[x]'])
      expect([name, await start(name, '{}').catch((error: unknown) => error)]).toEqual([name, expect.any(InvalidName)]);
    await expect(start('x'.repeat(81), '{}')).rejects.toBeInstanceOf(ValidationException);
    await expect(start('refused-input', 'not json')).rejects.toBeInstanceOf(InvalidExecutionInput);
    const runId = await openRun();
    // The name of the refused start is free: nothing ran under it.
    const accepted = await start('refused-input', JSON.stringify({ runId }));
    expect(accepted.executionArn).toMatch(/:execution:CloseRunStateMachine:refused-input$/);
    await closeMachine().settled();
  });
});
