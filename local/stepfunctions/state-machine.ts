/**
 * Runs statemachine/ingest.asl.json with aws-local-stepfunctions: DefinitionSubstitutions from the
 * template resolved to local values, every `lambda:invoke` Task answered by the local function
 * its FunctionName names (with Lambda's response shape), and results shaped like the Step Functions
 * StartSyncExecution API.
 */
import '../polyfills';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { localStateMachineArn } from '../aws-local';
import type { LocalResolver } from '../cloudformation/intrinsics';
import { LambdaServiceError, type LocalFunctions } from '../lambda/invoker';
import { PROJECT_ROOT, type CfnTemplate } from '../cloudformation/template';
import type { SegmentSink } from '../xray/segment';
import { traceExecution, type ExecutionTrace } from '../xray/step-functions';
import { roleCaller, type Caller } from '../iam/credentials';

export interface SyncExecutionResult {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  startDate: Date;
  stopDate: Date;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface LocalStateMachine {
  arn: string;
  name: string;
  type: string;
  /** The definition with substitutions applied, as DescribeStateMachine returns it. */
  definition: string;
  /** `traceHeader`: the caller's X-Amzn-Trace-Id (StartSyncExecution's `traceHeader` parameter). */
  startSyncExecution(input: string, name?: string, traceHeader?: string): Promise<SyncExecutionResult>;
  /** StartExecution: starts the execution and answers at once; it runs on in the background. */
  startExecution(input: string, name?: string): Promise<{ executionArn: string; startDate: Date }>;
  /** DescribeExecution of an execution StartExecution started (RUNNING until it ends). */
  describeExecution(executionArn: string): ExecutionDescription | undefined;
  /** Resolves when every execution started so far has ended (tests, and a clean shutdown). */
  settled(): Promise<void>;
}

export interface ExecutionDescription extends Omit<SyncExecutionResult, 'status' | 'stopDate'> {
  status: 'RUNNING' | SyncExecutionResult['status'];
  stopDate?: Date;
}

/** How a Task of resource `states:startExecution` reaches another local machine by its ARN. */
export type ExecutionStarter = (
  stateMachineArn: string,
  input: string,
  name?: string,
  /** The starting machine's role session, for IAM (states:StartExecution). */
  caller?: Caller,
) => Promise<{ executionArn: string; startDate: Date }>;

/** Thrown for what the Step Functions API itself would refuse (HTTP 400 there). */
export class StepFunctionsClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

const MAX_INPUT_BYTES = 256 * 1024;

/**
 * StartExecution's `name` (Step Functions API Reference, StartExecution): its length constraint is 1 to 80 (outside
 * it, the API's ValidationException, HTTP 400), and it must not hold whitespace, brackets `< > { } [ ]`, wildcards
 * `? *`, the special characters `" # % \ ^ | ~ \` $ & , ; : /` or control characters (U+0000-001F, U+007F-009F):
 * such a name is InvalidName (HTTP 400).
 */
// eslint-disable-next-line no-control-regex -- control characters are among what a name may not hold
const FORBIDDEN_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

function checkExecutionName(name: string): void {
  if (name.length < 1 || name.length > 80)
    throw new StepFunctionsClientError(
      'ValidationException',
      `1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length ${name.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 80'}`,
    );
  if (FORBIDDEN_NAME_CHARACTERS.test(name))
    throw new StepFunctionsClientError('InvalidName', `Invalid Name: '${name}'`);
}

/** What the API refuses before any execution exists (so a refused start leaves its name unused). */
function checkedInput(input: string): unknown {
  // The API Reference gives `input` a length constraint (262144, in bytes of UTF-8); a parameter outside
  // its constraints is the API's ValidationException (HTTP 400), worded as AWS words constraint violations.
  if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
    throw new StepFunctionsClientError(
      'ValidationException',
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144",
    );
  }
  try {
    return JSON.parse(input) as unknown;
  } catch {
    throw new StepFunctionsClientError('InvalidExecutionInput', 'Invalid execution input: not JSON');
  }
}

/** How a Task of the `states:startExecution` integration names an API error code. */
const stepFunctionsErrorName = (code: string) =>
  `StepFunctions.${code.endsWith('Exception') ? code : `${code}Exception`}`;

export function substituteDefinition(text: string, substitutions: Record<string, unknown>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, key: string) => {
    if (!(key in substitutions)) throw new Error(`DefinitionSubstitutions has no ${key}`);
    return String(substitutions[key]);
  });
}

export function createLocalStateMachine(
  logicalId: string,
  template: CfnTemplate,
  resolver: LocalResolver,
  functions: LocalFunctions,
  options: {
    retryIntervalMs?: number;
    segments?: SegmentSink;
    startExecution?: ExecutionStarter;
    /** The machine's role (logical id): its Tasks' calls are signed as that role, as Step Functions makes them. */
    role?: string;
  } = {},
): LocalStateMachine {
  const resource = template.Resources[logicalId];
  if (resource?.Type !== 'AWS::Serverless::StateMachine')
    throw new Error(`${logicalId} is not an AWS::Serverless::StateMachine`);
  const properties = resource.Properties ?? {};
  const substitutions = resolver.resolve(properties.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  const definitionText = substituteDefinition(
    readFileSync(resolve(PROJECT_ROOT, String(properties.DefinitionUri)), 'utf8'),
    substitutions,
  );
  const definition = JSON.parse(definitionText) as StateMachineDefinition & {
    States: Record<string, { Type: string; Resource?: string }>;
  };
  // Validation costs a few hundred milliseconds: build once, run many times.
  const machine = new StateMachine(definition);
  const arn = localStateMachineArn(logicalId);
  const caller = options.role === undefined ? undefined : roleCaller(options.role, logicalId);

  const taskStates: string[] = [];
  /** Tasks that start another machine: the same handler for every execution. */
  const startExecutionHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    if (state.Resource?.endsWith(':states:::states:startExecution')) {
      // The request-response integration: StartExecution's answer, {ExecutionArn, StartDate}, as the Task's result
      // ("Start a new AWS Step Functions state machine from a running execution", Step Functions Developer Guide).
      startExecutionHandlers[stateName] = async (input) => {
        const { StateMachineArn, Input, Name } = input as { StateMachineArn: string; Input?: unknown; Name?: string };
        if (!options.startExecution)
          throw Object.assign(new Error('no local state machine can be started'), {
            name: 'StepFunctions.StateMachineDoesNotExistException',
          });
        try {
          const started = await options.startExecution(
            StateMachineArn,
            typeof Input === 'string' ? Input : JSON.stringify(Input ?? {}),
            Name,
            caller,
          );
          return { ExecutionArn: started.executionArn, StartDate: started.startDate.toISOString() };
        } catch (error) {
          // The optimized integration names the API's refusals StepFunctions.<Code>Exception, as the AWS SDK for
          // Java's exception classes are named (e.g. StepFunctions.ExecutionAlreadyExistsException).
          if (error instanceof StepFunctionsClientError)
            throw Object.assign(new Error(error.message), { name: stepFunctionsErrorName(error.code) });
          throw error;
        }
      };
      continue;
    }
    if (!state.Resource?.endsWith(':states:::lambda:invoke')) {
      throw new Error(
        `The local stack runs lambda:invoke and states:startExecution tasks only; ${stateName} uses ${state.Resource}`,
      );
    }
    taskStates.push(stateName);
  }
  // Built per execution, so each attempt of a Task can carry that execution's trace header.
  const taskHandlersFor = (
    trace: ExecutionTrace | undefined,
  ): Record<string, (input: unknown) => Promise<unknown>> => ({
    ...startExecutionHandlers,
    ...Object.fromEntries(
      taskStates.map((stateName) => [
        stateName,
        async (input: unknown) => {
          const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
          const invoke = async (traceHeader?: string) => {
            try {
              return await functions.invoke(FunctionName, Payload, {
                ...(traceHeader ? { traceHeader } : {}),
                ...(caller ? { caller: { principal: caller } } : {}),
              });
            } catch (error) {
              // Step Functions names the Lambda service's own exceptions Lambda.<Exception> (e.g. Lambda.TooManyRequestsException).
              if (error instanceof LambdaServiceError)
                throw Object.assign(new Error(error.message), { name: `Lambda.${error.name}` });
              throw error;
            }
          };
          const result = trace
            ? await trace.taskAttempt(stateName, FunctionName.slice(FunctionName.lastIndexOf(':') + 1), invoke)
            : await invoke();
          return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
        },
      ]),
    ),
  });
  const retryIntervalOverrides =
    options.retryIntervalMs === undefined
      ? undefined
      : Object.fromEntries(
          [...taskStates, ...Object.keys(startExecutionHandlers)].map((name) => [
            name,
            options.retryIntervalMs as number,
          ]),
        );

  const type = String(properties.Type ?? 'STANDARD');
  const startSyncExecution = async (
    input: string,
    name: string = randomUUID(),
    traceHeader?: string,
  ): Promise<SyncExecutionResult> => {
    checkExecutionName(name);
    const parsed = checkedInput(input);
    // Express execution ARNs carry a random suffix; standard ones are the machine's ARN and the name.
    const executionArn =
      type === 'EXPRESS'
        ? `${arn.replace(':stateMachine:', ':express:')}:${name}:${randomUUID()}`
        : `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const startDate = new Date();
    const base = { executionArn, stateMachineArn: arn, name, startDate, input };
    const trace = options.segments
      ? traceExecution(options.segments, {
          stateMachineName: logicalId,
          stateMachineArn: arn,
          executionArn,
          traceHeader,
        })
      : undefined;
    const execution = machine.run(parsed as never, {
      overrides: {
        taskResourceLocalHandlers: taskHandlersFor(trace) as never,
        ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}),
      },
      context: {
        Execution: {
          Id: executionArn,
          Input: parsed,
          Name: name,
          StartTime: startDate.toISOString(),
          RoleArn: 'local',
        },
        StateMachine: { Id: arn, Name: logicalId },
      } as never,
    });
    const following = trace?.follow(execution.eventLogs).catch(() => undefined);
    const finish = async (result: SyncExecutionResult): Promise<SyncExecutionResult> => {
      await following;
      trace?.end(result.status, result.error);
      return result;
    };
    try {
      const output = await execution.result;
      return await finish({ ...base, stopDate: new Date(), status: 'SUCCEEDED', output: JSON.stringify(output) });
    } catch (error) {
      if (error instanceof ExecutionTimeoutError) {
        return await finish({
          ...base,
          stopDate: new Date(),
          status: 'TIMED_OUT',
          error: 'States.Timeout',
          cause: 'The execution timed out',
        });
      }
      if (error instanceof ExecutionError) {
        const caught = error.cause as Error | undefined;
        return await finish({
          ...base,
          stopDate: new Date(),
          status: 'FAILED',
          error: caught?.name ?? 'States.Runtime',
          cause: caught?.message ?? error.message,
        });
      }
      trace?.end('FAILED', 'States.Runtime');
      throw error;
    }
  };

  const executions = new Map<string, { description: ExecutionDescription; done: Promise<void> }>();
  const startExecution = async (input: string, name: string = randomUUID()) => {
    checkExecutionName(name);
    checkedInput(input);
    const candidateArn = type === 'EXPRESS' ? undefined : `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
    // A STANDARD execution's name is unique for 90 days (StartExecution, Step Functions API Reference): the same
    // name and input while the execution is open answers that execution (success, nothing new runs); a different
    // input, or a closed execution whatever the input, is ExecutionAlreadyExists (HTTP 400).
    const existing = candidateArn === undefined ? undefined : executions.get(candidateArn);
    if (existing) {
      if (existing.description.status === 'RUNNING' && existing.description.input === input)
        return { executionArn: existing.description.executionArn, startDate: existing.description.startDate };
      throw new StepFunctionsClientError(
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${existing.description.executionArn}'`,
      );
    }
    const running = startSyncExecution(input, name);
    const description: ExecutionDescription = {
      executionArn: candidateArn ?? '',
      stateMachineArn: arn,
      name,
      startDate: new Date(),
      input,
      status: 'RUNNING',
    };
    const done = running.then(
      (result) => {
        Object.assign(description, result);
      },
      (error: unknown) => {
        Object.assign(description, {
          status: 'FAILED',
          stopDate: new Date(),
          error: 'States.Runtime',
          cause: (error as Error).message,
        });
      },
    );
    if (candidateArn === undefined)
      description.executionArn = `${arn.replace(':stateMachine:', ':express:')}:${name}:${randomUUID()}`;
    executions.set(description.executionArn, { description, done });
    return { executionArn: description.executionArn, startDate: description.startDate };
  };

  return {
    arn,
    name: logicalId,
    type,
    definition: definitionText,
    startSyncExecution,
    startExecution,
    describeExecution: (executionArn) => executions.get(executionArn)?.description,
    settled: async () => {
      await Promise.all([...executions.values()].map((execution) => execution.done));
    },
  };
}
