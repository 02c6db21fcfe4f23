/**
 * Load and retry helpers for the reliability suite. Sizes come from environment variables so a
 * bigger run is one variable away; the defaults keep `npm test` short on a busy two-core machine.
 */
import type { CallResult, ClientIdentity } from '../../client/mtls';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { REFERENCE_FINDING } from '../../local/seed';
import type { TestStack } from './local-stack';

/** A positive whole number from the environment, or `fallback`. */
export function sizeFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** `count` findings of `org`, VulnIDs `${prefix}-0…`, in batches of `batchSize`. */
export function batchesOf(
  prefix: string,
  org: string,
  count: number,
  batchSize: number,
  overrides: Partial<Finding> = {},
): Finding[][] {
  const findings = Array.from({ length: count }, (_, index) => ({
    ...REFERENCE_FINDING,
    Org: org,
    VulnID: `${prefix}-${index}`,
    ...overrides,
  }));
  const batches: Finding[][] = [];
  for (let start = 0; start < findings.length; start += batchSize)
    batches.push(findings.slice(start, start + batchSize));
  return batches;
}

export interface PostOutcome {
  /** Every answer in order, the last one final. */
  statuses: number[];
  final: CallResult;
}

/**
 * POSTs one batch, retrying on 503 and 429 as a well-behaved client would (waiting `Retry-After`
 * when given), at most `attempts` times. A network error also counts as an attempt (the gateway
 * may have gone away); the last one is rethrown.
 */
export async function postWithRetry(
  stack: TestStack,
  identity: ClientIdentity,
  findings: Finding[],
  attempts = 8,
): Promise<PostOutcome> {
  const statuses: number[] = [];
  for (let attempt = 1; ; attempt += 1) {
    let answer: CallResult;
    try {
      answer = await stack.request(identity, { path: '/vuln', body: { findings }, timeoutMs: 60_000 });
    } catch (error) {
      statuses.push(0);
      if (attempt >= attempts) throw error;
      continue;
    }
    statuses.push(answer.status);
    if ((answer.status !== 503 && answer.status !== 429) || attempt >= attempts) return { statuses, final: answer };
    const retryAfter = Number(answer.headers['retry-after']);
    if (Number.isFinite(retryAfter) && retryAfter > 0)
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, 5) * 1000));
  }
}

/** Runs `work` for every item with at most `concurrency` at once; results in input order. */
export async function mapConcurrently<T, R>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++)
      results[index] = await work(items[index] as T, index);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
