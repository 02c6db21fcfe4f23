/**
 * `sam local invoke` without Docker (`npm run invoke`, entry point cli/invoke.ts): runs one of the
 * template's functions once, in the same execution-environment code the local stack uses (a worker
 * thread on the function's esbuild bundle, invoker.ts), with the environment the template gives it
 * (Globals + the function's own variables, resolved as the running stack resolves them), against the
 * running stack's tables and secrets.
 *
 * Environment overrides follow SAM CLI's `--env-vars` file (samcli/commands/local/lib/local_lambda.py
 * `_make_env_vars`, samcli/local/lambdafn/env_vars.py): a JSON object whose values are objects;
 * `"Parameters"` applies to every function and the function's logical id wins over it; only
 * variables the template declares for the function are set (others are ignored); a declared
 * variable also takes its value from the shell environment, below the file; objects, lists and
 * null become "" and booleans "true"/"false".
 *
 * What it prints is what Lambda logs and SAM CLI prints: `START`, the function's output, `END`, and
 * the REPORT line (Duration, Billed Duration, Memory Size, Max Memory Used, Init Duration); the
 * result (or the error as `{errorType, errorMessage, trace}`) is the payload.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
 */
import { randomUUID } from 'node:crypto';
import { localAwsEnvironment } from '../aws-local';
import { localResolver } from '../cloudformation/local-resolver';
import { loadTemplate, resourcesOfType, type CfnTemplate } from '../cloudformation/template';
import { localTableName } from '../dynamodb/server';
import { localSecretArn } from '../secretsmanager/server';
import {
  functionDefinitions,
  LambdaFunctionError,
  startLocalFunctions,
  type InvocationReport,
  type LocalFunctionDefinition,
} from './invoker';

/** Where the running stack's services are (from .local/stack.json, or a test's stack). */
export interface InvokeTarget {
  dynamoDbEndpoint: string;
  secretsManagerEndpoint?: string;
  /** The template parameter values the stack runs with. */
  parameterOverrides?: Record<string, string>;
}

export interface LocalInvokeOptions {
  /** The function's logical id in template.yaml. */
  functionId: string;
  event: unknown;
  target: InvokeTarget;
  /** A parsed `--env-vars` file. */
  envVars?: unknown;
  /** The shell's environment, for the variables the template declares (SAM CLI takes them too). */
  shellEnvironment?: NodeJS.ProcessEnv;
  /** The function's stdout and stderr, as they come. */
  output?: (stream: 'stdout' | 'stderr', text: string) => void;
  requestId?: string;
  /** Where bundles are cached (default .local/lambda). */
  bundleDir?: string;
}

export interface LocalInvokeResult {
  requestId: string;
  /** false when the function failed: `payload` is then `{errorType, errorMessage, trace}`. */
  ok: boolean;
  payload: unknown;
  report: InvocationReport;
  /** The function's environment variables from the template and the overrides (not the AWS ones). */
  environment: Record<string, string>;
}

/** An invocation that cannot start: unknown function, malformed --env-vars (exit code 2, no stack trace). */
export class InvokeUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvokeUsageError';
  }
}

/** SAM CLI's stringification of an environment value (env_vars.py `_stringify_value`). */
function stringify(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'object') return '';
  if (value === true) return 'true';
  if (value === false) return 'false';
  return String(value);
}

/** The overrides of an `--env-vars` file for one function: `Parameters` first, the function's own entry over it. */
export function envVarsOverrides(envVars: unknown, functionId: string): Record<string, unknown> {
  if (envVars === undefined) return {};
  if (envVars === null || typeof envVars !== 'object' || Array.isArray(envVars))
    throw new InvokeUsageError(
      '--env-vars must hold a JSON object, e.g. {"Parameters": {...}, "FunctionLogicalId": {...}}',
    );
  for (const [key, value] of Object.entries(envVars)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new InvokeUsageError(`--env-vars: the value of ${JSON.stringify(key)} must be an object of variables`);
  }
  const file = envVars as Record<string, Record<string, unknown>>;
  return {
    ...(Object.hasOwn(file, 'Parameters') ? file.Parameters : {}),
    ...(Object.hasOwn(file, functionId) ? file[functionId] : {}),
  };
}

/** The function's variables: the template's, then the shell's for those names, then the file's (SAM CLI's order). */
export function functionEnvironment(
  declared: Record<string, string>,
  overrides: Record<string, unknown>,
  shell: NodeJS.ProcessEnv = {},
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(declared).map(([name, value]) => {
      if (Object.hasOwn(overrides, name)) return [name, stringify(overrides[name])];
      const fromShell = shell[name];
      return [name, fromShell === undefined ? value : fromShell];
    }),
  );
}

/** The template's functions as the local stack resolves them (tables and secrets by their local names). */
export function localFunctionDefinitions(
  template: CfnTemplate,
  parameterOverrides: Record<string, string> = {},
): LocalFunctionDefinition[] {
  const tableNames = Object.fromEntries(
    resourcesOfType(template, 'AWS::DynamoDB::Table').map(([logicalId]) => [logicalId, localTableName(logicalId)]),
  );
  const secretArns = Object.fromEntries(
    resourcesOfType(template, 'AWS::SecretsManager::Secret').map(([logicalId]) => [
      logicalId,
      localSecretArn(logicalId),
    ]),
  );
  return functionDefinitions(template, localResolver(template, { parameterOverrides, tableNames, secretArns }));
}

/** Runs the function once in a fresh execution environment (a cold start, as `sam local invoke` always is). */
export async function localInvoke(
  options: LocalInvokeOptions,
  template: CfnTemplate = loadTemplate(),
): Promise<LocalInvokeResult> {
  const definitions = localFunctionDefinitions(template, options.target.parameterOverrides);
  const definition = definitions.find((candidate) => candidate.logicalId === options.functionId);
  if (!definition)
    throw new InvokeUsageError(
      `${options.functionId} is not a function of template.yaml; its functions are ${definitions.map(({ logicalId }) => logicalId).join(', ')}`,
    );
  const environment = functionEnvironment(
    definition.environment,
    envVarsOverrides(options.envVars, definition.logicalId),
    options.shellEnvironment,
  );
  const functions = await startLocalFunctions([{ ...definition, environment }], {
    environment: localAwsEnvironment(options.target.dynamoDbEndpoint, options.target.secretsManagerEndpoint),
    defaultConcurrency: 1,
    ...(options.bundleDir ? { bundleDir: options.bundleDir } : {}),
    ...(options.output ? { output: options.output } : {}),
  });
  const requestId = options.requestId ?? randomUUID();
  let report: InvocationReport | undefined;
  let ok = true;
  let payload: unknown;
  try {
    payload = await functions.invoke(definition.logicalId, options.event, {
      requestId,
      onReport: (figures) => (report = figures),
    });
  } catch (error) {
    if (!(error instanceof LambdaFunctionError)) throw error;
    ok = false;
    payload = JSON.parse(error.message) as unknown;
  } finally {
    // Ends the environment and waits for the last of its output.
    await functions.close();
  }
  if (!report) throw new Error(`${definition.logicalId} ended without a report`);
  return { requestId, ok, payload, report, environment };
}

const milliseconds = (value: number) => `${value.toFixed(2)} ms`;

/**
 * Lambda's REPORT line. Billed Duration is whole milliseconds and, since 1 August 2025, includes the
 * init phase of an on-demand cold start ("AWS Lambda standardizes billing for INIT Phase", AWS
 * Compute Blog). Max Memory Used is the environment's heap and off-heap memory, not a micro-VM's RSS.
 */
export function reportLine(report: InvocationReport): string {
  const billed = Math.ceil(report.durationMs + (report.initDurationMs ?? 0));
  const fields = [
    `REPORT RequestId: ${report.requestId}`,
    `Duration: ${milliseconds(report.durationMs)}`,
    `Billed Duration: ${billed} ms`,
    `Memory Size: ${report.memorySizeMb} MB`,
    `Max Memory Used: ${report.maxMemoryUsedBytes === undefined ? '?' : Math.ceil(report.maxMemoryUsedBytes / (1024 * 1024))} MB`,
    ...(report.initDurationMs === undefined ? [] : [`Init Duration: ${milliseconds(report.initDurationMs)}`]),
  ];
  return fields.join('\t');
}

export const startLine = (requestId: string) => `START RequestId: ${requestId} Version: $LATEST`;
export const endLine = (requestId: string) => `END RequestId: ${requestId}`;
