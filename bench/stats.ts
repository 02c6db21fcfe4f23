/** Latency summaries and a fixed amount of work spread over concurrent clients. */
import { performance } from 'node:perf_hooks';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

const round = (value: number) => Math.round(value * 100) / 100;

export function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: round(percentile(sorted, 50)), p95Ms: round(percentile(sorted, 95)), p99Ms: round(percentile(sorted, 99)) };
}

export const ratio = (value: number, baseline: number) => (baseline > 0 ? round(value / baseline) : 0);

export interface LoadResult {
  latencies: number[];
  elapsedMs: number;
}

/**
 * `clients` concurrent loops, each running `operation` `perClient` times one after another (a
 * client waits for its answer before sending again); every operation's latency is kept.
 */
export async function runClients(clients: number, perClient: number, operation: (client: number, round: number) => Promise<void>, onDone: () => void = () => undefined): Promise<LoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let index = 0; index < perClient; index += 1) {
        const begun = performance.now();
        await operation(client, index);
        latencies.push(performance.now() - begun);
        onDone();
      }
    }),
  );
  return { latencies, elapsedMs: performance.now() - started };
}
