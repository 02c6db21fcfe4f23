/**
 * The execution environments of one function: created on demand, reused while warm (the most
 * recently used first, so a quiet function keeps few environments busy), never more than the
 * function's concurrency limit. Over the template's ReservedConcurrentExecutions an invocation is
 * throttled as Lambda throttles it (TooManyRequestsException); over the local default (this
 * machine's limit, not Lambda's) it waits for a free environment instead.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 */
import { ExecutionEnvironment, type EnvironmentSpec } from './execution-environment';

export interface ConcurrencyLimit {
  limit: number;
  /** True when the limit is the function's reserved concurrency: over it Lambda throttles. */
  reserved: boolean;
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
  coldStarts = 0;

  constructor(
    private readonly spec: EnvironmentSpec,
    private readonly concurrency: ConcurrencyLimit,
  ) {}

  get size(): number {
    return this.all.size;
  }

  async acquire(): Promise<Lease> {
    if (this.closed) throw new Error('The function pool is closed');
    let environment = this.idle.pop();
    while (environment && !environment.alive) {
      this.all.delete(environment);
      environment = this.idle.pop();
    }
    if (environment) return { environment };
    if (this.all.size < this.concurrency.limit) return this.create();
    if (this.concurrency.reserved) throw new ThrottledError('Rate Exceeded.');
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
    const next = this.waiting.shift();
    if (next) next.resolve({ environment });
    else this.idle.push(environment);
  }

  async discard(environment: ExecutionEnvironment): Promise<void> {
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
