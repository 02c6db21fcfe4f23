/**
 * Everything behind the API Gateway face, on this machine: the DynamoDB-API server (its own
 * process) with the template's tables, the template's functions in Lambda-style execution
 * environments (worker threads), the ingestion state machine, and optionally the Step Functions API
 * on loopback. Template parameters take their defaults unless overridden, as `sam local` takes
 * `--parameter-overrides`.
 */
import { createTablesFromTemplate, startDynamoDb, type TableNames } from './dynamodb/server';
import type { MeterReading } from './dynamodb/request-meter';
import type { LocalResolver } from './cloudformation/intrinsics';
import { localResolver } from './cloudformation/local-resolver';
import { functionDefinitions, startLocalFunctions, type InvokerLog, type LocalFunctions } from './lambda/invoker';
import {
  eventSourceMappingDefinitions,
  startEventSourceMappings,
  type EventSourceMappings,
} from './lambda/event-source-mappings';
import { startStepFunctionsApi } from './stepfunctions/api';
import { startSecretsManager } from './secretsmanager/server';
import { createLocalStateMachine, type ExecutionStarter, type LocalStateMachine } from './stepfunctions/state-machine';
import { loadTemplate, resourcesOfType, type CfnTemplate } from './cloudformation/template';
import { localAwsEnvironment } from './aws-local';
import { tracedFunctions } from './xray/lambda';
import { startLocalTracing, type LocalTracing, type LocalTracingOptions } from './xray/tracing';
import { stepFunctionsCall } from './iam/calls';
import { iamCheckedFunctions } from './iam/functions';
import { IamGate, type Denial } from './iam/gate';
import { stackIam } from './iam/stack-iam';

export const INGEST_STATE_MACHINE = 'IngestStateMachine';

export interface LocalBackend {
  dynamoDbEndpoint: string;
  /** The local Secrets Manager API the functions read the template's secrets from. */
  secretsManagerEndpoint: string;
  /** Peak resident memory of the DynamoDB-API server's process. */
  dynamoDbMaxRssBytes(): Promise<number>;
  /** Requests the DynamoDB-API server has received, per table and operation, with the capacity it reported (dynamodb/request-meter.ts). */
  dynamoDbRequests(): Promise<MeterReading>;
  tableNames: TableNames & { FindingsTable: string; AuthzTable: string };
  functions: LocalFunctions;
  stateMachine: LocalStateMachine;
  /** Every state machine of the template by logical id (the ingestion machine included). */
  stateMachines: Record<string, LocalStateMachine>;
  stepFunctionsEndpoint: string | undefined;
  /** Resolves the template's (and the OpenAPI document's) intrinsic functions to local values. */
  resolver: LocalResolver;
  /** The local X-Ray daemon and trace store, when tracing is on. */
  tracing: LocalTracing | undefined;
  /** IAM on every call the functions and machines make (undefined with `iam: false`). */
  iam: LocalIam | undefined;
  /** The functions' DynamoDB stream event source mappings (lambda/event-source-mappings.ts). */
  eventSourceMappings: EventSourceMappings;
  /** Resolves once every mapping has delivered (or sent on failure) every stream record written before the call. */
  drainStreams(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalIam {
  gate: IamGate;
  /** Every call refused so far, by any endpoint (DynamoDB's process included), in order. */
  denials: Denial[];
  /** False when DynamoDB runs as DynamoDB Local, which the local stack cannot put IAM in front of. */
  dynamoDbEnforced: boolean;
}

export interface BackendOptions {
  /** 0 = a random free port. Default 8000. */
  dynamoDbPort?: number;
  /** Where DynamoDB keeps its data; omitted = in memory. */
  dataDir?: string;
  /** Where the template's generated secrets are kept (one file each, mode 0600); omitted = in memory. */
  secretsDir?: string;
  /** Port of the Step Functions API; undefined = not served. */
  stepFunctionsPort?: number;
  /** Environment overrides for the functions (e.g. GRANT_CACHE_SECONDS). */
  environment?: Record<string, string>;
  /** Overrides every Task's retry interval (tests). */
  retryIntervalMs?: number;
  /** Where the functions send DynamoDB calls, when not straight to the server (a fault-injecting proxy in tests). */
  functionsDynamoDbEndpoint?: string;
  /** Template parameter values instead of their defaults (`--parameter-overrides`, samconfig.toml). */
  parameterOverrides?: Record<string, string>;
  /** Execution environments per function at once (this machine's limit; reserved concurrency still throttles, see lambda/invoker.ts). */
  defaultConcurrency?: number;
  /** Where the invoker logs cold starts. */
  log?: InvokerLog;
  /** Trace requests: run the local X-Ray daemon and store what the services and functions send it. */
  traces?: LocalTracingOptions;
  /** Address the DynamoDB, Secrets Manager and Step Functions servers listen on (default 127.0.0.1; `npm start --bind-address`). */
  bindAddress?: string;
  /** V8 CPU profiles of every execution environment and of the DynamoDB-API server go here (`npm run bench -- --cpu-prof`). */
  cpuProfileDir?: string;
  /** Evaluate IAM on every call the stack's code makes (default true; `npm start --no-iam` turns it off). */
  iam?: boolean;
  /** Called on every call IAM refuses (after it is recorded in `iam.denials`). */
  onDenial?: (denial: Denial) => void;
  /**
   * The template IAM's documents are read from, when not template.yaml itself (tests remove one statement from
   * a copy and watch the matching request fail). Nested layers are inlined from their files unless already.
   */
  iamTemplate?: CfnTemplate;
}

export async function startBackend(options: BackendOptions = {}): Promise<LocalBackend> {
  const template = loadTemplate();
  const dynamoDb = await startDynamoDb({
    port: options.dynamoDbPort ?? 8000,
    dataDir: options.dataDir,
    cpuProfileDir: options.cpuProfileDir,
    ...(options.bindAddress ? { host: options.bindAddress } : {}),
  });
  let secrets: Awaited<ReturnType<typeof startSecretsManager>> | undefined;
  let functions: LocalFunctions | undefined;
  let tracing: LocalTracing | undefined;
  let mappings: EventSourceMappings | undefined;
  try {
    tracing = options.traces ? await startLocalTracing(options.traces) : undefined;
    secrets = await startSecretsManager(
      resourcesOfType(template, 'AWS::SecretsManager::Secret').map(([logicalId]) => logicalId),
      { dir: options.secretsDir, ...(options.bindAddress ? { host: options.bindAddress } : {}) },
    );
    const tables = await createTablesFromTemplate(dynamoDb.endpoint, template);
    const tableNames = tables.names as LocalBackend['tableNames'];
    const resolver = localResolver(template, {
      parameterOverrides: options.parameterOverrides,
      tableNames,
      secretArns: secrets.arns,
      streamArns: tables.streamArns,
    });
    let iam: LocalIam | undefined;
    if (options.iam ?? true) {
      const documents = stackIam({ template: options.iamTemplate ?? template, references: resolver.references });
      const denials: Denial[] = [];
      const record = (denial: Denial) => {
        denials.push(denial);
        options.onDenial?.(denial);
      };
      const gate = new IamGate(documents, record);
      await gate.warm(['secretsmanager', 'kms', 'lambda', 'states']);
      secrets.enforceIam(gate);
      if (dynamoDb.enforceIam) await dynamoDb.enforceIam(documents, record);
      iam = { gate, denials, dynamoDbEnforced: dynamoDb.enforceIam !== undefined };
    }
    functions = await startLocalFunctions(functionDefinitions(template, resolver), {
      environment: {
        ...localAwsEnvironment(options.functionsDynamoDbEndpoint ?? dynamoDb.endpoint, secrets.endpoint),
        ...options.environment,
      },
      ...(options.defaultConcurrency === undefined ? {} : { defaultConcurrency: options.defaultConcurrency }),
      ...(options.log ? { log: options.log } : {}),
      ...(tracing ? { xrayDaemonAddress: tracing.daemon.address } : {}),
      ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
    });
    const traced = tracedFunctions(functions, tracing?.sink);
    const started = iam ? iamCheckedFunctions(traced, iam.gate) : traced;
    // Every machine of the template; a Task of one may start another by its ARN (states:startExecution).
    const stateMachines: Record<string, LocalStateMachine> = {};
    const startExecution: ExecutionStarter = async (arn, input, name, caller) => {
      if (iam && caller) {
        const verdict = await iam.gate.check(caller, stepFunctionsCall('StartExecution', arn));
        // Step Functions reports the service's refusal of an integration's call as <Service>.AWS<Service>Exception.
        if (verdict.kind === 'denied')
          throw Object.assign(
            new Error(
              `${verdict.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException)`,
            ),
            {
              name: 'StepFunctions.AWSStepFunctionsException',
            },
          );
      }
      const target = Object.values(stateMachines).find((machine) => machine.arn === arn);
      if (!target)
        throw Object.assign(new Error(`State Machine Does Not Exist: '${arn}'`), {
          name: 'StepFunctions.StateMachineDoesNotExistException',
        });
      return target.startExecution(input, name);
    };
    for (const [logicalId] of resourcesOfType(template, 'AWS::Serverless::StateMachine')) {
      stateMachines[logicalId] = createLocalStateMachine(logicalId, template, resolver, started, {
        retryIntervalMs: options.retryIntervalMs,
        startExecution,
        segments: tracing?.sink,
        ...(iam ? { role: iam.gate.stack.stateMachineRoles[logicalId] } : {}),
      });
    }
    // Lambda polls a stream once the mapping's function exists: after the functions are ready.
    mappings = startEventSourceMappings(eventSourceMappingDefinitions(template, resolver), {
      functions: traced,
      endpoint: dynamoDb.endpoint,
      ...(options.log ? { log: options.log } : {}),
      ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
    });
    const eventSourceMappings = mappings;
    const stateMachine = stateMachines[INGEST_STATE_MACHINE];
    if (!stateMachine) throw new Error(`the template has no ${INGEST_STATE_MACHINE}`);
    const api =
      options.stepFunctionsPort === undefined
        ? undefined
        : await startStepFunctionsApi(Object.values(stateMachines), {
            port: options.stepFunctionsPort,
            ...(iam ? { iam: iam.gate } : {}),
            ...(options.bindAddress ? { host: options.bindAddress } : {}),
          });
    return {
      dynamoDbEndpoint: dynamoDb.endpoint,
      secretsManagerEndpoint: secrets.endpoint,
      dynamoDbMaxRssBytes: () => dynamoDb.maxRssBytes(),
      dynamoDbRequests: () => dynamoDb.requests(),
      tableNames,
      functions: started,
      stateMachine,
      stateMachines,
      stepFunctionsEndpoint: api?.endpoint,
      resolver,
      tracing,
      iam,
      eventSourceMappings,
      drainStreams: () => eventSourceMappings.drain(),
      close: async () => {
        await api?.close();
        await eventSourceMappings.close();
        await Promise.all(Object.values(stateMachines).map((machine) => machine.settled()));
        await started.close();
        await secrets?.close();
        await dynamoDb.close();
        await tracing?.close();
      },
    };
  } catch (error) {
    await mappings?.close();
    await functions?.close();
    await secrets?.close();
    await tracing?.close();
    await dynamoDb.close();
    throw error;
  }
}
