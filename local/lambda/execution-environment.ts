/**
 * One execution environment: a worker thread with exactly its function's environment variables and
 * its own module state, running one invocation at a time, as Lambda runs one event per environment
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). Its init phase
 * (thread start and module load) is timed like Lambda's `Init Duration`. A timed-out or crashed
 * environment is discarded, as Lambda resets an environment after a timeout or a runtime exit.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ErrorShape, InvokeMessage, RuntimeMessage, RuntimeStart } from './runtime-protocol';

export interface EnvironmentSpec {
  runtimePath: string;
  start: RuntimeStart;
  /** process.env inside the environment, and nothing else. */
  environment: Record<string, string>;
  /** Where the function's stdout and stderr go; omitted = this process's own, as the stack runs. */
  output?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** Write a V8 CPU profile of the environment here when it ends (`npm run bench -- --cpu-prof`). */
  cpuProfileDir?: string;
}

export type InvocationOutcome =
  | { ok: true; payload: string; maxMemoryUsedBytes?: number }
  | { ok: false; error: ErrorShape; fatal: boolean; maxMemoryUsedBytes?: number };

export class ExecutionEnvironment {
  private readonly worker: Worker;
  private pending: ((outcome: InvocationOutcome) => void) | undefined;
  private exited = false;
  /** Resolves when the captured output has been read to its end (at once when not captured). */
  private readonly outputDrained: Promise<void>;
  /** Milliseconds from thread start to the handler module loaded. */
  readonly initDurationMs: Promise<number>;

  constructor(spec: EnvironmentSpec) {
    const started = performance.now();
    this.worker = new Worker(spec.runtimePath, {
      workerData: spec.start,
      env: spec.environment,
      // Node options of this process (e.g. `--import tsx`) are not the function's.
      execArgv: spec.cpuProfileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${join(spec.cpuProfileDir, spec.start.functionName)}`]
        : [],
      resourceLimits: { maxOldGenerationSizeMb: spec.start.memoryMb },
      ...(spec.output ? { stdout: true, stderr: true } : {}),
    });
    const { output } = spec;
    this.outputDrained = output
      ? Promise.all(
          (['stdout', 'stderr'] as const).map(
            (name) =>
              new Promise<void>((resolveDrained) => {
                const stream = this.worker[name];
                stream.setEncoding('utf8');
                stream.on('data', (text: string) => output(name, text));
                stream.once('end', () => resolveDrained());
                stream.once('error', () => resolveDrained());
              }),
          ),
        ).then(() => undefined)
      : Promise.resolve();
    // An idle environment never keeps the process alive; an invocation's timer does while it runs.
    this.worker.unref();
    let initialized!: (durationMs: number) => void;
    let failed!: (error: Error) => void;
    this.initDurationMs = new Promise((resolve, reject) => {
      initialized = resolve;
      failed = reject;
    });
    const asError = (shape: ErrorShape) => Object.assign(new Error(shape.errorMessage), { name: shape.errorType });
    this.worker.on('message', (message: RuntimeMessage) => {
      if (message.type === 'ready') initialized(performance.now() - started);
      else if (message.type === 'init-error') failed(asError(message));
      else if (message.type === 'result')
        this.settle({ ok: true, payload: message.payload, maxMemoryUsedBytes: message.maxMemoryUsedBytes });
      else {
        const { maxMemoryUsedBytes, errorType, errorMessage, trace } = message;
        this.settle({ ok: false, fatal: false, error: { errorType, errorMessage, trace }, maxMemoryUsedBytes });
      }
    });
    const onExit = (reason: string) => {
      this.exited = true;
      const shape: ErrorShape = {
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited: ${reason}`,
        trace: [],
      };
      failed(asError(shape));
      this.settle({ ok: false, fatal: true, error: shape });
    };
    this.worker.on('error', (error) => onExit(`${error.name}: ${error.message}`));
    this.worker.on('exit', (code) => onExit(`exit status ${code}`));
    // Observed by whoever awaits it; never an unhandled rejection.
    this.initDurationMs.catch(() => undefined);
  }

  get alive(): boolean {
    return !this.exited;
  }

  private settle(outcome: InvocationOutcome): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.(outcome);
  }

  /** Runs one invocation; the caller never sends a second before the first settles. */
  invoke(message: Omit<InvokeMessage, 'type'>): Promise<InvocationOutcome> {
    if (this.pending) throw new Error('An execution environment runs one invocation at a time');
    if (this.exited)
      return Promise.resolve({
        ok: false,
        fatal: true,
        error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited', trace: [] },
      });
    return new Promise((resolve) => {
      this.pending = resolve;
      this.worker.postMessage({ type: 'invoke', ...message } satisfies InvokeMessage);
    });
  }

  /** Ends the environment; resolves once its captured output has all been delivered. */
  async terminate(): Promise<void> {
    this.exited = true;
    await this.worker.terminate();
    await this.outputDrained;
  }
}
