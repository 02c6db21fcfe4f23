/**
 * The execution environments of one function: created on demand, reused while warm (the most
 * recently used first, so a quiet function keeps few environments busy), never more than the
 * function's concurrency limit. Over the template's ReservedConcurrentExecutions an invocation is
 * throttled as Lambda throttles it (TooManyRequestsException); over the local default (this
 * machine's limit, not Lambda's) it waits for a free environment instead.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 *
 * Lambda counts concurrency as invocations in flight, and so does the throttle here. How many of
 * them run at once is this machine's business: `environments` caps the worker threads (the rest
 * wait, before their function timeout starts), because on a few cores twenty isolates do not run
 * faster than four, they each compile the same code again and hold their own heap.
 */
import { ExecutionEnvironment, type EnvironmentSpec } from './execution-environment';

export interface ConcurrencyLimit {
  /** Invocations in flight at most. */
  limit: number;
  /** True when the limit is the function's reserved concurrency: over it Lambda throttles. */
  reserved: boolean;
  /** Execution environments (worker threads) at most, when fewer than `limit`: the others wait. */
  environments?: number;
}

export class ThrottledError extends Error {}

export interface Lease {
  environment: ExecutionEnvironment;
  /** Set on the invocation that created the environment. */
  initDurationMs?: number;
}

export class EnvironmentPool {
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly all = new Set<ExecutionEnvironment>();
  private readonly waiting: { resolve: (lease: Lease) => void; reject: (error: unknown) => void }[] = [];
  private closed = false;
  private inFlight = 0;
  coldStarts = 0;

  constructor(
    private readonly spec: EnvironmentSpec,
    private readonly concurrency: ConcurrencyLimit,
  ) {}

  get size(): number {
    return this.all.size;
  }

  private get maxEnvironments(): number {
    return Math.min(this.concurrency.limit, this.concurrency.environments ?? Infinity);
  }

  /** A lease on an environment; every lease ends with release() or discard(). */
  async acquire(): Promise<Lease> {
    if (this.closed) throw new Error('The function pool is closed');
    if (this.concurrency.reserved && this.inFlight >= this.concurrency.limit)
      throw new ThrottledError('Rate Exceeded.');
    this.inFlight += 1;
    let environment = this.idle.pop();
    while (environment && !environment.alive) {
      this.all.delete(environment);
      environment = this.idle.pop();
    }
    if (environment) return { environment };
    if (this.all.size < this.maxEnvironments) return this.create();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private async create(): Promise<Lease> {
    const environment = new ExecutionEnvironment(this.spec);
    this.all.add(environment);
    this.coldStarts += 1;
    try {
      return { environment, initDurationMs: await environment.initDurationMs };
    } catch (error) {
      // A failed init leaves no environment behind; the next invocation tries a fresh one.
      await this.discard(environment);
      throw error;
    }
  }

  release(environment: ExecutionEnvironment): void {
    if (!environment.alive || this.closed) {
      void this.discard(environment);
      return;
    }
    this.inFlight -= 1;
    const next = this.waiting.shift();
    if (next) next.resolve({ environment });
    else this.idle.push(environment);
  }

  async discard(environment: ExecutionEnvironment): Promise<void> {
    this.inFlight -= 1;
    this.all.delete(environment);
    await environment.terminate();
    // The freed slot goes to whoever waits, with a new environment.
    const next = this.waiting.shift();
    if (next && !this.closed) this.create().then(next.resolve, next.reject);
  }

  async close(): Promise<void> {
    this.closed = true;
    const environments = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('The function pool is closed'));
    await Promise.all(environments.map((environment) => environment.terminate()));
  }
}
