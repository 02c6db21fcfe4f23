/**
 * Everything behind the API Gateway face, on this machine: the DynamoDB-API server (its own
 * process) with the template's tables, the template's functions in Lambda-style execution
 * environments (worker threads), the ingestion state machine, and optionally the Step Functions API
 * on loopback. Template parameters take their defaults unless overridden, as `sam local` takes
 * `--parameter-overrides`.
 */
import { createTablesFromTemplate, startDynamoDb, type TableNames } from './dynamodb/server';
import { LocalResolver } from './cloudformation/intrinsics';
import { functionDefinitions, startLocalFunctions, type InvokerLog, type LocalFunctions } from './lambda/invoker';
import { checkParameterOverrides } from './cloudformation/parameters';
import { startStepFunctionsApi } from './stepfunctions/api';
import { startSecretsManager } from './secretsmanager/server';
import { createLocalStateMachine, type LocalStateMachine } from './stepfunctions/state-machine';
import { loadTemplate, resourcesOfType } from './cloudformation/template';
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION, localAwsEnvironment, localFunctionArn, localStateMachineArn } from './aws-local';
import { tracedFunctions } from './xray/lambda';
import { startLocalTracing, type LocalTracing, type LocalTracingOptions } from './xray/tracing';

export const INGEST_STATE_MACHINE = 'IngestStateMachine';

export interface LocalBackend {
  dynamoDbEndpoint: string;
  /** Peak resident memory of the DynamoDB-API server's process. */
  dynamoDbMaxRssBytes(): Promise<number>;
  tableNames: TableNames & { FindingsTable: string; AuthzTable: string };
  functions: LocalFunctions;
  stateMachine: LocalStateMachine;
  stepFunctionsEndpoint: string | undefined;
  /** Resolves the template's (and the OpenAPI document's) intrinsic functions to local values. */
  resolver: LocalResolver;
  /** The local X-Ray daemon and trace store, when tracing is on. */
  tracing: LocalTracing | undefined;
  close(): Promise<void>;
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
  /** V8 CPU profiles of every execution environment and of the DynamoDB-API server go here (`npm run bench -- --cpu-prof`). */
  cpuProfileDir?: string;
}

export async function startBackend(options: BackendOptions = {}): Promise<LocalBackend> {
  const template = loadTemplate();
  const dynamoDb = await startDynamoDb({ port: options.dynamoDbPort ?? 8000, dataDir: options.dataDir, cpuProfileDir: options.cpuProfileDir });
  let secrets: Awaited<ReturnType<typeof startSecretsManager>> | undefined;
  let functions: LocalFunctions | undefined;
  let tracing: LocalTracing | undefined;
  try {
    tracing = options.traces ? await startLocalTracing(options.traces) : undefined;
    secrets = await startSecretsManager(resourcesOfType(template, 'AWS::SecretsManager::Secret').map(([logicalId]) => logicalId), { dir: options.secretsDir });
    const tableNames = (await createTablesFromTemplate(dynamoDb.endpoint)) as LocalBackend['tableNames'];
    const refs: Record<string, string> = { ...checkParameterOverrides(template, options.parameterOverrides ?? {}), ...tableNames, ...secrets.arns };
    const attributes: Record<string, string> = {};
    for (const [logicalId] of resourcesOfType(template, 'AWS::Serverless::Function')) {
      refs[logicalId] = logicalId;
      attributes[`${logicalId}.Arn`] = localFunctionArn(logicalId);
    }
    for (const [logicalId] of resourcesOfType(template, 'AWS::Serverless::StateMachine')) {
      refs[logicalId] = localStateMachineArn(logicalId);
      attributes[`${logicalId}.Arn`] = localStateMachineArn(logicalId);
      attributes[`${logicalId}.Name`] = logicalId;
    }
    for (const [logicalId] of resourcesOfType(template, 'AWS::IAM::Role')) {
      attributes[`${logicalId}.Arn`] = `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:role/${logicalId}`;
    }
    for (const table of Object.keys(tableNames)) attributes[`${table}.Arn`] = `arn:${LOCAL_PARTITION}:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${table}`;
    const resolver = new LocalResolver(template, { refs, attributes });
    functions = await startLocalFunctions(functionDefinitions(template, resolver), {
      environment: { ...localAwsEnvironment(options.functionsDynamoDbEndpoint ?? dynamoDb.endpoint, secrets.endpoint), ...options.environment },
      ...(options.defaultConcurrency === undefined ? {} : { defaultConcurrency: options.defaultConcurrency }),
      ...(options.log ? { log: options.log } : {}),
      ...(tracing ? { xrayDaemonAddress: tracing.daemon.address } : {}),
      ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
    });
    const started = tracedFunctions(functions, tracing?.sink);
    const stateMachine = createLocalStateMachine(INGEST_STATE_MACHINE, template, resolver, started, { retryIntervalMs: options.retryIntervalMs, segments: tracing?.sink });
    const api = options.stepFunctionsPort === undefined ? undefined : await startStepFunctionsApi([stateMachine], { port: options.stepFunctionsPort });
    return {
      dynamoDbEndpoint: dynamoDb.endpoint,
      dynamoDbMaxRssBytes: () => dynamoDb.maxRssBytes(),
      tableNames,
      functions: started,
      stateMachine,
      stepFunctionsEndpoint: api?.endpoint,
      resolver,
      tracing,
      close: async () => {
        await api?.close();
        await started.close();
        await secrets?.close();
        await dynamoDb.close();
        await tracing?.close();
      },
    };
  } catch (error) {
    await functions?.close();
    await secrets?.close();
    await tracing?.close();
    await dynamoDb.close();
    throw error;
  }
}
