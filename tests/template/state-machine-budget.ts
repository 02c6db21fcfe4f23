/**
 * The time budget of the state machines behind the API, computed from the template: which routes start which
 * machine synchronously (StartSyncExecution integrations of the OpenAPI document), and the worst case of every
 * path through a machine, each Task tried and retried to its timeout with every retry wait at its longest.
 */
import { functionsAfterGlobals, openApi, properties, readProjectFile } from './support';

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}
export interface AslState {
  Type: string;
  Resource?: string;
  QueryLanguage?: string;
  TimeoutSeconds?: number;
  Retry?: AslRetrier[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  Parameters?: Record<string, unknown>;
  Choices?: { Next: string }[];
  Default?: string;
  Next?: string;
  End?: boolean;
}
export interface Asl {
  Comment?: string;
  QueryLanguage?: string;
  TimeoutSeconds?: number;
  StartAt: string;
  States: Record<string, AslState>;
}

/**
 * Seconds a path's Tasks may take at most, below the machine's TimeoutSeconds: each Lambda invocation's
 * request and answer, and the Pass states that build the answer, run outside the functions' timeouts.
 */
export const MACHINE_MARGIN_SECONDS = 2;
/** Milliseconds the machine's TimeoutSeconds ends before API Gateway's integration timeout: the answer's way back. */
export const INTEGRATION_MARGIN_MS = 1000;

/** A state machine's definition, read from its DefinitionUri. */
export function aslOf(machine: string): Asl {
  return JSON.parse(readProjectFile(String(properties(machine).DefinitionUri))) as Asl;
}

export interface MachineBehindApi {
  route: string;
  machine: string;
  timeoutInMillis: number;
}

/** Every route whose integration starts a state machine synchronously, with that machine and the integration's timeout. */
export function machinesBehindApi(): MachineBehindApi[] {
  const found: MachineBehindApi[] = [];
  for (const [path, item] of Object.entries(openApi().paths))
    for (const [method, operation] of Object.entries(item ?? {})) {
      const integration = (operation as { 'x-amazon-apigateway-integration'?: Record<string, unknown> })[
        'x-amazon-apigateway-integration'
      ];
      if (!JSON.stringify(integration?.uri ?? '').includes('states:action/StartSyncExecution')) continue;
      const template = (integration?.requestTemplates as Record<string, unknown> | undefined)?.['application/json'];
      const sub = (template as { 'Fn::Sub'?: [string, Record<string, { Ref?: string }>] } | undefined)?.['Fn::Sub'];
      const machine = sub?.[1].StateMachineArn?.Ref;
      if (machine === undefined) throw new Error(`${method.toUpperCase()} ${path}: no StateMachineArn Ref`);
      found.push({
        route: `${method.toUpperCase()} ${path}`,
        machine,
        timeoutInMillis: Number(integration?.timeoutInMillis),
      });
    }
  return found;
}

/** The longest one Task can take: each retrier counts its own attempts, each runs to the timeout, each wait its longest (FULL jitter only shortens it). */
export function taskWorstCaseSeconds(state: AslState, attemptSeconds: number): number {
  let attempts = 1;
  let waits = 0;
  for (const retrier of state.Retry ?? []) {
    const maxAttempts = retrier.MaxAttempts ?? 3;
    attempts += maxAttempts;
    for (let attempt = 0; attempt < maxAttempts; attempt++)
      waits += Math.min(
        (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt,
        retrier.MaxDelaySeconds ?? Infinity,
      );
  }
  return attempts * attemptSeconds + waits;
}

/** How long one attempt of a Task may run: its function's Timeout, or its own TimeoutSeconds when shorter or when it runs no function. */
function attemptSeconds(machine: string, state: AslState): number {
  const own = state.TimeoutSeconds ?? Infinity;
  if (!state.Resource?.endsWith(':states:::lambda:invoke')) return own;
  const substitutions = properties(machine).DefinitionSubstitutions as Record<string, unknown>;
  const arn = substitutions[String(state.Parameters?.FunctionName).replace(/^\$\{(.+)\}$/, '$1')] as {
    'Fn::GetAtt'?: [string, string];
  };
  const timeouts = new Map(functionsAfterGlobals().map(([logicalId, props]) => [logicalId, Number(props.Timeout)]));
  return Math.min(own, timeouts.get(arn['Fn::GetAtt']?.[0] ?? '') ?? Infinity);
}

/** Every path from StartAt to an end (Choice branches and Catch routes included); machines behind the API do not loop. */
export function paths(asl: Asl, from = asl.StartAt, seen: string[] = []): string[][] {
  const state = asl.States[from] as AslState;
  const next = [
    ...(state.Choices ?? []).map((choice) => choice.Next),
    ...(state.Default ? [state.Default] : []),
    ...(state.Next ? [state.Next] : []),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
  const unique = [...new Set(next)].filter((name) => !seen.includes(name));
  if (unique.length === 0) return [[...seen, from]];
  return unique.flatMap((name) => paths(asl, name, [...seen, from]));
}

/** The worst case of every path through a machine, in seconds. */
export function pathBudgets(machine: string): { path: string; seconds: number }[] {
  const asl = aslOf(machine);
  return paths(asl).map((path) => ({
    path: path.join(' → '),
    seconds: path
      .map((name) => asl.States[name] as AslState)
      .filter((state) => state.Type === 'Task')
      .reduce((sum, state) => sum + taskWorstCaseSeconds(state, attemptSeconds(machine, state)), 0),
  }));
}
