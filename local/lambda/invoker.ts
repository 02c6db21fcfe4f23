/**
 * Runs the template's functions the way Lambda does: each function in its own execution
 * environments (worker threads, see environment-pool.ts), with exactly its environment variables
 * from the template as `sam build` writes it (Globals + function, cloudformation/sam-build.ts) plus the ones Lambda defines, a context per call, the event
 * and result crossing as JSON, the function's timeout enforced, Lambda's 6 MB payload quota, and
 * errors reported as Lambda reports them (errorType from the error's name, Cause a JSON string
 * `{errorType, errorMessage, trace}`), so the state machine's Retry and Catch behave as in AWS.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { localFunctionArn } from '../aws-local';
import type { LocalResolver } from '../cloudformation/intrinsics';
import { PROJECT_ROOT, resourcesOfType, type CfnTemplate } from '../cloudformation/template';
import { samBuiltTemplate } from '../cloudformation/sam-build';
import { bundleRequestOf, localBundles, type BuildProperties } from './bundle';
import { lambdaTraceEnvironment } from '../xray/trace-header';
import { EnvironmentPool, ThrottledError } from './environment-pool';
import type { ErrorShape } from './runtime-protocol';
import { roleCredentialVariables, type Principal } from '../iam/credentials';

export interface LocalFunctionDefinition {
  logicalId: string;
  arn: string;
  /** The source entry point; the environment runs its esbuild bundle. */
  entryPoint: string;
  /** The template's esbuild BuildProperties (Minify, Sourcemap, Target, …). */
  build?: BuildProperties;
  exportName: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** ReservedConcurrentExecutions, where the template sets it. */
  reservedConcurrency?: number;
  /** The execution role's logical id: the environment gets its credentials, as Lambda sets them. */
  role?: string;
  environment: Record<string, string>;
}

/** An error as Lambda reports a function error: `name` = errorType, `message` = the JSON Cause. */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    trace: string[],
  ) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

/**
 * An error of the Lambda service itself (the Invoke API refused the call), not of the function:
 * `name` is the API's exception name; Step Functions reports it as `Lambda.<name>`.
 */
export class LambdaServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = name;
  }
}

/** Lambda's quota for a synchronous invocation: 6 MB request and 6 MB response (Lambda quotas). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/**
 * Execution environments per function at once: this machine's limit, not Lambda's
 * (environment-pool.ts). One per core, 2 to 4: measured with `npm run bench` on 2 cores, 4 per
 * function ran batches of 100 at 0.4 of the raw upsert rate and 2 at 0.6-0.73, with 200 MB less
 * memory; more isolates than cores only compile the same code again (docs/performance.md).
 */
export const DEFAULT_LOCAL_CONCURRENCY = Math.min(4, Math.max(2, availableParallelism()));

export function functionDefinitions(written: CfnTemplate, resolver: LocalResolver): LocalFunctionDefinition[] {
  // The functions as `sam build` deploys them (its esbuild post-processing can add NODE_OPTIONS).
  const template = samBuiltTemplate(written);
  const globals = (template.Globals?.Function ?? {}) as Record<string, unknown>;
  const globalEnvironment = ((globals.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;
  return resourcesOfType(template, 'AWS::Serverless::Function').map(([logicalId, resource]) => {
    // Only what the local run needs is resolved (a Role or a log group has no local value).
    const wanted = ['Handler', 'Timeout', 'MemorySize', 'Environment', 'ReservedConcurrentExecutions'];
    const properties = resolver.resolve(
      Object.fromEntries(Object.entries(resource.Properties ?? {}).filter(([key]) => wanted.includes(key))),
    ) as Record<string, unknown>;
    const { entryPoint, build } = bundleRequestOf(logicalId, resource);
    const handler = String(properties.Handler ?? globals.Handler ?? '');
    const variables = {
      ...(resolver.resolve(globalEnvironment) as Record<string, unknown>),
      ...((properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}),
    };
    const reserved = properties.ReservedConcurrentExecutions;
    const role = (resource.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    return {
      logicalId,
      arn: localFunctionArn(logicalId),
      entryPoint,
      build,
      exportName: handler.slice(handler.lastIndexOf('.') + 1),
      timeoutSeconds: Number(properties.Timeout ?? globals.Timeout ?? 3),
      memoryMb: Number(properties.MemorySize ?? globals.MemorySize ?? 128),
      ...(reserved === undefined ? {} : { reservedConcurrency: Number(reserved) }),
      ...(role === undefined ? {} : { role }),
      environment: Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, String(value)])),
    };
  });
}

/**
 * The variables Lambda defines in every environment (a subset: those a Node.js handler reads).
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
function definedRuntimeVariables(
  definition: LocalFunctionDefinition,
  region: string | undefined,
): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: definition.logicalId,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${definition.logicalId}`,
    _HANDLER: `handler.${definition.exportName}`,
    ...(region ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}),
    // The function runs on the template's nodejs22.x in Lambda; the SDK's warning about an older Node is about this machine.
    ...(Number(process.versions.node.split('.')[0]) < 22
      ? { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
      : {}),
  };
}

/** What Lambda's REPORT line says about one invocation. */
export interface InvocationReport {
  requestId: string;
  durationMs: number;
  /** Set on a cold start: the environment's init phase. */
  initDurationMs?: number;
  memorySizeMb: number;
  /** The environment's memory at the end of the invocation (see runtime-protocol.ts); undefined when it died. */
  maxMemoryUsedBytes?: number;
}

export interface InvokeOptions {
  requestId?: string;
  /** Called once the invocation has ended (succeeded, failed or timed out), with its REPORT figures. */
  onReport?: (report: InvocationReport) => void;
  /** Set in the environment's process.env for this invocation only (e.g. `_X_AMZN_TRACE_ID`). */
  environment?: Record<string, string>;
  /** The invocation's X-Ray header (Parent = the function's segment): with tracing on, it becomes `_X_AMZN_TRACE_ID`. */
  traceHeader?: string;
  /**
   * Who invokes, for IAM (local/iam/functions.ts): a state machine's role, or API Gateway with the calling
   * route's ARN as `aws:SourceArn`. Omitted: the operator (tests, `npm run invoke`), not evaluated.
   */
  caller?: { principal: Principal; context?: Record<string, string> };
}

export type InvokerLog = (entry: Record<string, unknown>) => void;

export interface LocalFunctionsOptions {
  /**
   * Added to every function's environment after the template's: what Lambda's environment provides
   * (region, credentials, the DynamoDB endpoint locally) and test overrides.
   */
  environment?: Record<string, string>;
  /**
   * Execution environments per function at most (default DEFAULT_LOCAL_CONCURRENCY), this machine's
   * limit: beyond it invocations wait for a free environment. A function with reserved concurrency
   * is still throttled at its reservation, counted as invocations in flight, as Lambda counts it.
   */
  defaultConcurrency?: number;
  /** Where bundles are cached (default .local/lambda). */
  bundleDir?: string;
  /** Cold starts are logged here, as Lambda's REPORT line carries `Init Duration`. */
  log?: InvokerLog;
  /** Where the functions' stdout and stderr go (default: this process's). */
  output?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** `IP:port` of the local X-Ray daemon: set, functions run with active tracing as Lambda runs them. */
  xrayDaemonAddress?: string;
  /** Each execution environment writes a V8 CPU profile under <dir>/<FunctionId>/ when it ends. */
  cpuProfileDir?: string;
}

/**
 * With active tracing Lambda runs the function as the X-Ray SDK expects to find it: in a Lambda
 * environment (AWS_EXECUTION_ENV, LAMBDA_TASK_ROOT) with the daemon's address known before the SDK
 * loads, and the trace header of each invocation in `_X_AMZN_TRACE_ID`
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
function tracingVariables(daemonAddress: string | undefined): Record<string, string> {
  if (!daemonAddress) return {};
  return {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: PROJECT_ROOT,
    AWS_XRAY_DAEMON_ADDRESS: daemonAddress,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  };
}

export interface FunctionStats {
  environments: number;
  coldStarts: number;
  initDurationsMs: number[];
}

export interface LocalFunctions {
  definitions: LocalFunctionDefinition[];
  /** Invoke by logical id or ARN; resolves with the handler's JSON result or rejects with LambdaFunctionError / LambdaServiceError. */
  invoke(functionId: string, event: unknown, options?: InvokeOptions): Promise<unknown>;
  stats(): Record<string, FunctionStats>;
  /** Ends every execution environment. */
  close(): Promise<void>;
}

interface RunningFunction {
  definition: LocalFunctionDefinition;
  pool: EnvironmentPool;
  initDurationsMs: number[];
}

const functionError = (shape: ErrorShape) => new LambdaFunctionError(shape.errorType, shape.errorMessage, shape.trace);

async function runOnce(
  running: RunningFunction,
  eventJson: string,
  requestId: string,
  options: InvokeOptions,
  log: InvokerLog,
): Promise<string> {
  const environment = options.environment ?? {};
  const { definition, pool } = running;
  let lease;
  try {
    lease = await pool.acquire();
  } catch (error) {
    if (error instanceof ThrottledError)
      throw new LambdaServiceError('TooManyRequestsException', 'Rate Exceeded.', 429);
    // An init failure fails the invocation with the error the module threw, as Lambda reports it.
    throw functionError({ errorType: (error as Error).name, errorMessage: (error as Error).message, trace: [] });
  }
  if (lease.initDurationMs !== undefined) {
    running.initDurationsMs.push(lease.initDurationMs);
    log({
      level: 'INFO',
      message: 'cold start',
      functionName: definition.logicalId,
      requestId,
      initDurationMs: Math.round(lease.initDurationMs * 100) / 100,
      environments: pool.size,
    });
  }
  const { environment: executionEnvironment } = lease;
  const started = performance.now();
  let maxMemoryUsedBytes: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), definition.timeoutSeconds * 1000);
  });
  try {
    const outcome = await Promise.race([
      executionEnvironment.invoke({
        requestId,
        event: eventJson,
        deadline: Date.now() + definition.timeoutSeconds * 1000,
        environment,
      }),
      timedOut,
    ]);
    if (outcome !== 'timeout') maxMemoryUsedBytes = outcome.maxMemoryUsedBytes;
    if (outcome === 'timeout') {
      // Lambda stops a timed-out environment; the next invocation gets a fresh one.
      await pool.discard(executionEnvironment);
      throw new LambdaFunctionError(
        'Sandbox.Timedout',
        `Task timed out after ${definition.timeoutSeconds.toFixed(2)} seconds`,
        [],
      );
    }
    if (!outcome.ok) {
      if (outcome.fatal) await pool.discard(executionEnvironment);
      else pool.release(executionEnvironment);
      throw functionError(outcome.error);
    }
    pool.release(executionEnvironment);
    if (Buffer.byteLength(outcome.payload) > MAX_PAYLOAD_BYTES) {
      throw new LambdaFunctionError(
        'Function.ResponseSizeTooLarge',
        `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
        [],
      );
    }
    return outcome.payload;
  } finally {
    clearTimeout(timer);
    options.onReport?.({
      requestId,
      durationMs: performance.now() - started,
      ...(lease.initDurationMs === undefined ? {} : { initDurationMs: lease.initDurationMs }),
      memorySizeMb: definition.memoryMb,
      ...(maxMemoryUsedBytes === undefined ? {} : { maxMemoryUsedBytes }),
    });
  }
}

function invocationEnvironment(
  invokeOptions: InvokeOptions,
  daemonAddress: string | undefined,
): Record<string, string> {
  const traced =
    daemonAddress && invokeOptions.traceHeader ? lambdaTraceEnvironment(invokeOptions.traceHeader, daemonAddress) : {};
  return { ...invokeOptions.environment, ...traced };
}

export async function startLocalFunctions(
  definitions: LocalFunctionDefinition[],
  options: LocalFunctionsOptions = {},
): Promise<LocalFunctions> {
  const bundles = await localBundles(
    definitions.map((definition) => ({
      logicalId: definition.logicalId,
      entryPoint: definition.entryPoint,
      build: definition.build ?? {},
    })),
    options.bundleDir,
  );
  const log = options.log ?? (() => undefined);
  const byId = new Map<string, RunningFunction>();
  for (const definition of definitions) {
    const environment = {
      ...definition.environment,
      ...definedRuntimeVariables(definition, options.environment?.AWS_REGION),
      ...tracingVariables(options.xrayDaemonAddress),
      ...options.environment,
      // Lambda sets the execution role's credentials last: the function's calls are its role's.
      ...(definition.role ? roleCredentialVariables(definition.role, definition.logicalId) : {}),
    };
    const pool = new EnvironmentPool(
      {
        runtimePath: bundles.runtimePath,
        environment,
        ...(options.output ? { output: options.output } : {}),
        ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
        start: {
          handlerPath: bundles.handlers.get(definition.logicalId) as string,
          exportName: definition.exportName,
          functionName: definition.logicalId,
          functionArn: definition.arn,
          memoryMb: definition.memoryMb,
          sourceMaps: /(^|\s)--enable-source-maps(\s|$)/.test(environment.NODE_OPTIONS ?? ''),
        },
      },
      definition.reservedConcurrency === undefined
        ? { limit: options.defaultConcurrency ?? DEFAULT_LOCAL_CONCURRENCY, reserved: false }
        : {
            limit: definition.reservedConcurrency,
            reserved: true,
            environments: options.defaultConcurrency ?? DEFAULT_LOCAL_CONCURRENCY,
          },
    );
    const running = { definition, pool, initDurationsMs: [] };
    byId.set(definition.logicalId, running);
    byId.set(definition.arn, running);
  }

  const invoke = async (functionId: string, event: unknown, invokeOptions: InvokeOptions = {}): Promise<unknown> => {
    const running = byId.get(functionId);
    if (!running) throw new LambdaServiceError('ResourceNotFoundException', `Function not found: ${functionId}`, 404);
    const eventJson = JSON.stringify(event === undefined ? null : event);
    if (Buffer.byteLength(eventJson) > MAX_PAYLOAD_BYTES) {
      throw new LambdaServiceError(
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        413,
      );
    }
    const payload = await runOnce(
      running,
      eventJson,
      invokeOptions.requestId ?? randomUUID(),
      { ...invokeOptions, environment: invocationEnvironment(invokeOptions, options.xrayDaemonAddress) },
      log,
    );
    return JSON.parse(payload) as unknown;
  };

  const unique = () => [...new Set(byId.values())];
  return {
    definitions,
    invoke,
    stats: () =>
      Object.fromEntries(
        unique().map(({ definition, pool, initDurationsMs }) => [
          definition.logicalId,
          { environments: pool.size, coldStarts: pool.coldStarts, initDurationsMs: [...initDurationsMs] },
        ]),
      ),
    close: async () => {
      await Promise.all(unique().map(({ pool }) => pool.close()));
    },
  };
}
