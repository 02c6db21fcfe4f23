/**
 * Runs the template's functions in this process the way Lambda would: environment from the
 * template (Globals + function), a context object per call, the event and result serialized as JSON,
 * the function's timeout enforced, and errors reported as Lambda reports them (errorType from the
 * error's name, Cause a JSON string `{errorType, errorMessage, trace}`), so the state machine's
 * Retry and Catch behave as in AWS.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import { localFunctionArn } from '../aws-local';
import type { LocalResolver } from '../cloudformation/intrinsics';
import { PROJECT_ROOT, resourcesOfType, type CfnTemplate } from '../cloudformation/template';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalFunctionDefinition {
  logicalId: string;
  arn: string;
  entryPoint: string;
  exportName: string;
  timeoutSeconds: number;
  memoryMb: number;
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

export function functionDefinitions(template: CfnTemplate, resolver: LocalResolver): LocalFunctionDefinition[] {
  const globals = (template.Globals?.Function ?? {}) as Record<string, unknown>;
  const globalEnvironment = ((globals.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
  return resourcesOfType(template, 'AWS::Serverless::Function').map(([logicalId, resource]) => {
    const properties = resource.Properties ?? {};
    const buildProperties = (resource.Metadata?.BuildProperties ?? {}) as { EntryPoints?: string[] };
    const entryPoint = buildProperties.EntryPoints?.[0];
    if (!entryPoint) throw new Error(`${logicalId} has no esbuild EntryPoints in its Metadata`);
    const handler = String(properties.Handler ?? globals.Handler ?? '');
    const variables = resolver.resolve({
      ...globalEnvironment,
      ...((properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}),
    }) as Record<string, unknown>;
    return {
      logicalId,
      arn: localFunctionArn(logicalId),
      entryPoint: resolve(PROJECT_ROOT, entryPoint),
      exportName: handler.slice(handler.lastIndexOf('.') + 1),
      timeoutSeconds: Number(properties.Timeout ?? globals.Timeout ?? 3),
      memoryMb: Number(properties.MemorySize ?? globals.MemorySize ?? 128),
      environment: Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, String(value)])),
    };
  });
}

export interface LocalFunctions {
  definitions: LocalFunctionDefinition[];
  /**
   * Invoke by logical id or ARN; resolves with the handler's JSON result or rejects with LambdaFunctionError.
   * `traceHeader` is the invocation's X-Ray header; an environment of its own would get it as variables
   * through lambdaTraceEnvironment (local/xray/trace-header.ts). Shared process.env cannot carry it per call.
   */
  invoke(functionId: string, event: unknown, options?: { requestId?: string; traceHeader?: string }): Promise<unknown>;
}

/**
 * All functions share this process, so their environments are merged into process.env before any
 * handler module loads (handlers read configuration at load time). Two functions giving one
 * variable different values cannot be honoured in one process, so that is refused outright.
 */
function applyEnvironment(definitions: LocalFunctionDefinition[], overrides: Record<string, string>): void {
  const merged: Record<string, string> = {};
  for (const definition of definitions) {
    for (const [name, value] of Object.entries(definition.environment)) {
      if (name in merged && merged[name] !== value && !(name in overrides)) {
        throw new Error(`Functions disagree on ${name}; the local stack runs them in one process and needs one value`);
      }
      merged[name] = value;
    }
  }
  Object.assign(process.env, merged, overrides);
}

const toJson = (value: unknown): unknown => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

export function createLocalFunctions(definitions: LocalFunctionDefinition[], environment: Record<string, string> = {}): LocalFunctions {
  applyEnvironment(definitions, environment);
  const handlers = new Map<string, Handler>();
  const byId = new Map<string, LocalFunctionDefinition>();
  for (const definition of definitions) {
    byId.set(definition.logicalId, definition);
    byId.set(definition.arn, definition);
  }

  const loadHandler = (definition: LocalFunctionDefinition): Handler => {
    let handler = handlers.get(definition.logicalId);
    if (!handler) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const module = require(definition.entryPoint) as Record<string, unknown>;
      const exported = module[definition.exportName];
      if (typeof exported !== 'function') throw new Error(`${definition.entryPoint} exports no function ${definition.exportName}`);
      handler = exported as Handler;
      handlers.set(definition.logicalId, handler);
    }
    return handler;
  };

  const invoke = async (functionId: string, event: unknown, options: { requestId?: string; traceHeader?: string } = {}): Promise<unknown> => {
    const definition = byId.get(functionId);
    if (!definition) throw new LambdaFunctionError('ResourceNotFoundException', `Function not found: ${functionId}`, []);
    const handler = loadHandler(definition);
    const deadline = Date.now() + definition.timeoutSeconds * 1000;
    const requestId = options.requestId ?? randomUUID();
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: definition.logicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: definition.arn,
      memoryLimitInMB: String(definition.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${definition.logicalId}`,
      logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LambdaFunctionError('Sandbox.Timedout', `Task timed out after ${definition.timeoutSeconds.toFixed(2)} seconds`, [])),
        definition.timeoutSeconds * 1000,
      );
    });
    try {
      return toJson(await Promise.race([handler(toJson(event), context), timeout]));
    } catch (error) {
      if (error instanceof LambdaFunctionError) throw error;
      const failure = error instanceof Error ? error : new Error(String(error));
      throw new LambdaFunctionError(failure.name || 'Error', failure.message, (failure.stack ?? '').split('\n'));
    } finally {
      clearTimeout(timer);
    }
  };

  return { definitions, invoke };
}

