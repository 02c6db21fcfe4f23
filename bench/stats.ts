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
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
  };
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
export async function runClients(
  clients: number,
  perClient: number,
  operation: (client: number, round: number) => Promise<void>,
  onDone: () => void = () => undefined,
): Promise<LoadResult> {
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

/**
 * Measures several loads in alternating slices (a, b, a, b, …), `rounds` slices each, and merges
 * each load's slices: on a machine whose background load changes, a baseline measured minutes
 * after its pipeline sees another machine; alternating gives both the same. `measure[i](start,
 * count)` runs operations start…start+count-1 of load i (per client).
 */
export async function alternate(
  rounds: number,
  perClient: number,
  measures: ((start: number, count: number) => Promise<LoadResult>)[],
  /** Runs before every slice, untimed (the bench lets the findings stream's consumer catch up there). */
  between: () => Promise<void> = async () => undefined,
): Promise<LoadResult[]> {
  const merged: LoadResult[] = measures.map(() => ({ latencies: [], elapsedMs: 0 }));
  const size = Math.ceil(perClient / Math.max(1, Math.min(rounds, perClient)));
  for (let start = 0; start < perClient; start += size) {
    const count = Math.min(size, perClient - start);
    for (const [index, measure] of measures.entries()) {
      await between();
      const slice = await measure(start, count);
      const into = merged[index] as LoadResult;
      into.latencies.push(...slice.latencies);
      into.elapsedMs += slice.elapsedMs;
    }
  }
  return merged;
}
