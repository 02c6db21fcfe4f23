/**
 * Where a running `npm start` listens, in one file (`.local/stack.json`), so tools in a second
 * terminal (`authz`, `demo`, `smoke`, `bench`, `invoke`) talk to that stack whatever ports it was
 * started with. The file is claimed exclusively before the stack starts, so a second `npm start` in
 * the same checkout stops with a message naming the first; it is removed on a clean stop, and a file
 * left by a process that no longer runs (a crash, SIGKILL) is stale and ignored.
 * `LOCAL_STACK_DIR` moves the whole `.local/` folder (tests run stacks of their own there).
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from './cloudformation/template';
import type { LocalPorts } from './ports';

export interface StackState {
  pid: number;
  startedAt: string;
  /** The ports the servers actually listen on. */
  ports: LocalPorts;
  gatewayUrl: string;
  dynamoDbEndpoint: string;
  stepFunctionsEndpoint?: string;
  /** The local Secrets Manager API (the template's secrets, e.g. the page-token key). */
  secretsManagerEndpoint: string;
  /** Template parameter values the stack runs with instead of their defaults. */
  parameterOverrides: Record<string, string>;
  /** Absolute path of the truststore the gateway verifies client certificates against. */
  truststore: string;
  /** Whether that truststore holds the dev CA (so the dev client certificates are accepted). */
  trustsDevCa: boolean;
  /** Whether it holds the dev PKI's rogue CA (so the rogue client certificate is accepted too). */
  trustsRogueCa: boolean;
  pkiDir: string;
  dataDir: string;
  /** The template parameter GrantCacheSeconds as this stack runs it. */
  grantCacheSeconds: number;
  /** The address the servers bind (127.0.0.1 unless `--bind-address` said otherwise). */
  bindAddress: string;
}

/** `.local/`, or `$LOCAL_STACK_DIR`. */
export function localStackDir(environment: NodeJS.ProcessEnv = process.env): string {
  return environment.LOCAL_STACK_DIR ? resolve(environment.LOCAL_STACK_DIR) : join(PROJECT_ROOT, '.local');
}

export const stackStatePath = (dir: string = localStackDir()) => join(dir, 'stack.json');

/** A second `npm start` in the same checkout. */
export class StackAlreadyRunningError extends Error {
  constructor(readonly running: Partial<StackState> & { pid: number }) {
    super(describeRunning(running));
    this.name = 'StackAlreadyRunningError';
  }
}

function describeRunning(running: Partial<StackState> & { pid: number }): string {
  const where = running.ports
    ? ` on ${running.gatewayUrl ?? `port ${running.ports.gateway}`} (DynamoDB port ${running.ports.dynamoDb}, Step Functions API port ${running.ports.stepFunctions})`
    : ' (still starting)';
  return `A local stack is already running in this checkout: pid ${running.pid}${where}. Stop it first (Ctrl-C in its terminal, or kill ${running.pid}).`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readState(path: string): (Partial<StackState> & { pid: number }) | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  const pid = (parsed as { pid?: unknown } | null)?.pid;
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 0
    ? (parsed as Partial<StackState> & { pid: number })
    : undefined;
}

/**
 * Claims the state file for this process before anything listens; throws StackAlreadyRunningError
 * when another live process holds it. A stale file (its process is gone) is replaced.
 */
export function claimStackState(dir: string = localStackDir(), pid: number = process.pid): void {
  mkdirSync(dir, { recursive: true });
  const path = stackStatePath(dir);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify({ pid, startedAt: new Date().toISOString() })}\n`);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readState(path);
    if (holder && holder.pid !== pid && isAlive(holder.pid)) throw new StackAlreadyRunningError(holder);
    rmSync(path, { force: true });
  }
  throw new Error(`Could not claim ${path}: another process keeps creating it`);
}

/** Writes the full state once everything listens (atomically: readers never see half a file). */
export function writeStackState(state: StackState, dir: string = localStackDir()): void {
  const path = stackStatePath(dir);
  const temporary = `${path}.${state.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Removes the state file if this process still holds it. */
export function releaseStackState(dir: string = localStackDir(), pid: number = process.pid): void {
  const path = stackStatePath(dir);
  if (readState(path)?.pid === pid) rmSync(path, { force: true });
}

/** The stack running in this checkout, when its process is alive and it has finished starting. */
export function runningStack(dir: string = localStackDir()): StackState | undefined {
  const state = readState(stackStatePath(dir));
  if (!state || !isAlive(state.pid) || !state.ports || !state.gatewayUrl) return undefined;
  return state as StackState;
}

/** The variables that name a stack's ports; set in a tool's environment, they win over the state file. */
export const PORT_VARIABLES = ['PORT', 'DYNAMODB_PORT', 'SFN_PORT', 'XRAY_DAEMON_PORT', 'TRACES_PORT'] as const;

/**
 * The stack a tool talks to by default: the one running in this checkout, unless the tool's own
 * environment names ports (PORT, DYNAMODB_PORT, SFN_PORT), which then win, as they always did.
 */
export function discoverStack(environment: NodeJS.ProcessEnv = process.env): StackState | undefined {
  if (PORT_VARIABLES.some((name) => (environment[name] ?? '') !== '')) return undefined;
  return runningStack(localStackDir(environment));
}
