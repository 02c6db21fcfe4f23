/**
 * The Step Functions API (AWS JSON 1.0 protocol) for the local state machines, on loopback:
 * StartSyncExecution, StartExecution, DescribeExecution and DescribeStateMachine, so `@aws-sdk/client-sfn` (with
 * `disableHostPrefix: true`, as StartSyncExecution otherwise prefixes the host with `sync-`) and
 * `aws stepfunctions start-sync-execution --endpoint-url` work against it. Signatures are not checked
 * (it listens on 127.0.0.1 only), but the signer is: with `iam`, a call signed by one of the stack's roles is
 * evaluated on the machine or execution it names (local/iam/gate.ts); the operator's is not.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readBody } from '../http-body';
import { listenOnLoopback, type LoopbackListener } from '../loopback';
import { StepFunctionsClientError, type LocalStateMachine } from './state-machine';
import { stepFunctionsCall } from '../iam/calls';
import { callerOf } from '../iam/credentials';
import type { IamGate } from '../iam/gate';

const MAX_REQUEST_BYTES = 1024 * 1024;
const epochSeconds = (date: Date | number) => (date instanceof Date ? date.getTime() / 1000 : date);

/** A StartSyncExecution result as the Step Functions API puts it on the wire (JSON 1.0, epoch seconds). */
export function syncExecutionResponse<T extends { startDate: Date | number; stopDate: Date | number; output?: string }>(
  result: T,
) {
  return {
    ...result,
    startDate: epochSeconds(result.startDate),
    stopDate: epochSeconds(result.stopDate),
    inputDetails: { included: true },
    ...(result.output === undefined ? {} : { outputDetails: { included: true } }),
  };
}

export type LocalStepFunctionsApi = LoopbackListener;

async function readJsonText(request: IncomingMessage): Promise<string> {
  const read = await readBody(request, MAX_REQUEST_BYTES);
  if (!read.ok)
    throw new StepFunctionsClientError(
      'ValidationException',
      read.reason === 'too-large' ? 'Request too large' : 'Request aborted',
    );
  return read.body.toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
  response.end(JSON.stringify(body));
}

export async function startStepFunctionsApi(
  machines: LocalStateMachine[],
  options: { port?: number; host?: string; iam?: IamGate } = {},
): Promise<LocalStepFunctionsApi> {
  const byArn = new Map(machines.map((machine) => [machine.arn, machine]));
  const find = (arn: unknown) => {
    const machine = typeof arn === 'string' ? byArn.get(arn) : undefined;
    if (!machine)
      throw new StepFunctionsClientError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return machine;
  };

  const actions: Record<string, (request: Record<string, unknown>) => Promise<unknown>> = {
    StartSyncExecution: async (request) => {
      const machine = find(request.stateMachineArn);
      if (machine.type !== 'EXPRESS')
        throw new StepFunctionsClientError(
          'StateMachineTypeNotSupported',
          'StartSyncExecution needs an EXPRESS state machine',
        );
      // StartSyncExecution's `traceHeader` parameter continues the caller's X-Ray trace.
      const traceHeader = typeof request.traceHeader === 'string' ? request.traceHeader : undefined;
      return syncExecutionResponse(
        await machine.startSyncExecution(
          String(request.input ?? '{}'),
          typeof request.name === 'string' ? request.name : undefined,
          traceHeader,
        ),
      );
    },
    StartExecution: async (request) => {
      const machine = find(request.stateMachineArn);
      const started = await machine.startExecution(
        String(request.input ?? '{}'),
        typeof request.name === 'string' ? request.name : undefined,
      );
      return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
    },
    DescribeExecution: async (request) => {
      const arn = String(request.executionArn ?? '');
      const description = machines
        .map((machine) => machine.describeExecution(arn))
        .find((found) => found !== undefined);
      if (!description)
        throw new StepFunctionsClientError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
      return {
        ...description,
        startDate: epochSeconds(description.startDate),
        ...(description.stopDate ? { stopDate: epochSeconds(description.stopDate) } : {}),
      };
    },
    DescribeStateMachine: async (request) => {
      const machine = find(request.stateMachineArn);
      return {
        stateMachineArn: machine.arn,
        name: machine.name,
        status: 'ACTIVE',
        definition: machine.definition,
        roleArn: machine.arn.replace(/:states:.*$/, ':iam::000000000000:role/local'),
        type: machine.type,
        creationDate: 0,
        loggingConfiguration: { level: 'ERROR', includeExecutionData: false },
        tracingConfiguration: { enabled: true },
      };
    },
  };

  const server = createServer((request, response) => {
    void (async () => {
      try {
        const target = String(request.headers['x-amz-target'] ?? '');
        const action = actions[target.replace(/^AWSStepFunctions\./, '')];
        if (request.method !== 'POST' || !action)
          throw new StepFunctionsClientError('UnknownOperationException', `Unsupported operation ${target}`);
        let body: Record<string, unknown>;
        try {
          body = JSON.parse((await readJsonText(request)) || '{}') as Record<string, unknown>;
        } catch {
          throw new StepFunctionsClientError('SerializationException', 'Request body is not JSON');
        }
        if (options.iam) {
          const operation = target.replace(/^AWSStepFunctions\./, '');
          const resource = String(body.executionArn ?? body.stateMachineArn ?? '');
          const verdict = await options.iam.check(
            callerOf(request.headers.authorization),
            stepFunctionsCall(operation, resource),
          );
          if (verdict.kind === 'unreachable') return void request.socket.destroy();
          if (verdict.kind === 'denied') throw new StepFunctionsClientError(verdict.code, verdict.message);
        }
        send(response, 200, await action(body));
      } catch (error) {
        if (error instanceof StepFunctionsClientError)
          send(response, 400, { __type: error.code, message: error.message });
        else send(response, 500, { __type: 'InternalFailure', message: 'Internal failure' });
      }
    })();
  });
  return listenOnLoopback(server, options.port ?? 0, 'http', options.host);
}
