/**
 * What each case of the lifecycle costs DynamoDB, counted by the local server's request meter
 * (local/dynamodb/request-meter.ts) around one batch through the whole stack: requests on the
 * findings table per finding, the conditional writes refused, and the capacity units the server
 * reported (ReturnConsumedCapacity). A refused conditional write reports no capacity, yet DynamoDB
 * charges it write units like a write of the item ("DynamoDB read and write operations", capacity
 * unit consumption for write operations, Amazon DynamoDB Developer Guide): `writeUnits` counts each
 * refusal as one unit, which holds for items under 1 KB (the bench's are; see `itemBytes`).
 */
import { meterDifference, type MeterReading, type OperationTally } from '../local/dynamodb/request-meter';
import type { BenchClient } from './mtls-agent-client';
import { benchFinding } from './workload';

export const COST_ORG = 'bench-cost';
const SCANNER = 'bench';
const TIMES = {
  monday: '2026-03-02T09:00:00.000Z',
  lastWeek: '2026-02-23T09:00:00.000Z',
  nextMonday: '2026-03-09T09:00:00.000Z',
  mondayAfter: '2026-03-16T09:00:00.000Z',
  weekAfter: '2026-03-23T09:00:00.000Z',
};

export interface CaseCost {
  /** Findings the case wrote, closed or read. */
  findings: number;
  /** Findings-table requests per finding (every operation). */
  requestsPerFinding: number;
  /** Refused conditional writes per finding (charged, not reported). */
  refusalsPerFinding: number;
  /** Write units per finding: reported by the server, plus one per refusal. */
  writeUnitsPerFinding: number;
  /** Read units per finding the server reported. */
  readUnitsPerFinding: number;
  /** Requests on the other tables (grants, runs, idempotency records) for the whole case. */
  otherTableRequests: number;
  /** The findings-table requests by operation. */
  operations: Record<string, OperationTally>;
}

export type CostCase = 'new' | 'unchanged' | 'updated' | 'stale' | 'close' | 'reopen' | 'getPage';

export interface CostResult {
  batchSize: number;
  cases: Record<CostCase, CaseCost>;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);

export function caseCost(difference: MeterReading, findingsTable: string, findings: number): CaseCost {
  const operations = difference[findingsTable] ?? {};
  const sum = (pick: (operation: string, tally: OperationTally) => number) =>
    Object.entries(operations).reduce((total, [operation, tally]) => total + pick(operation, tally), 0);
  const per = (value: number) => Math.round((value / Math.max(findings, 1)) * 1000) / 1000;
  const refusals = sum((_, tally) => tally.conditionalCheckFailed);
  return {
    findings,
    requestsPerFinding: per(sum((_, tally) => tally.requests)),
    refusalsPerFinding: per(refusals),
    writeUnitsPerFinding: per(sum((operation, tally) => (READS.has(operation) ? 0 : tally.capacityUnits)) + refusals),
    readUnitsPerFinding: per(sum((operation, tally) => (READS.has(operation) ? tally.capacityUnits : 0))),
    otherTableRequests: Object.entries(difference)
      .filter(([table]) => table !== findingsTable)
      .reduce((total, [, byOperation]) => total + Object.values(byOperation).reduce((s, t) => s + t.requests, 0), 0),
    operations,
  };
}

export interface CostContext {
  scanner: BenchClient;
  dashboard: BenchClient;
  findingsTable: string;
  requests(): Promise<MeterReading>;
  batchSize: number;
}

async function call(client: BenchClient, method: 'GET' | 'POST', path: string, body?: unknown) {
  const answer = await client.send(method, path, body === undefined ? undefined : JSON.stringify(body));
  if (answer.status >= 300)
    throw new Error(`${method} ${path} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return JSON.parse(answer.body) as Record<string, unknown>;
}

/** new → unchanged (a second run, same scan time) → updated (a newer scan) → stale (an older one) → close → reopen → a GET page. */
export async function measureCost(context: CostContext): Promise<CostResult> {
  const { scanner, dashboard, batchSize } = context;
  const findings = Array.from({ length: batchSize }, (_, index) => ({
    ...benchFinding(`cost-${String(index).padStart(4, '0')}`, COST_ORG),
    AssetName: 'cost.example.com',
  }));
  const openRun = async (scannedAt: string, assets?: string[]) =>
    String(
      (
        await call(scanner, 'POST', '/scans', {
          org: COST_ORG,
          scanner: SCANNER,
          scannedAt,
          ...(assets ? { scope: { assets } } : {}),
        })
      ).runId,
    );
  const metered = async (count: number, work: () => Promise<unknown>): Promise<CaseCost> => {
    const before = await context.requests();
    await work();
    return caseCost(meterDifference(before, await context.requests()), context.findingsTable, count);
  };
  const batchIn = async (scannedAt: string, expected: string) => {
    const runId = await openRun(scannedAt);
    return metered(batchSize, async () => {
      const answer = await call(scanner, 'POST', '/vuln', { runId, findings });
      if (answer[expected] !== batchSize)
        throw new Error(`expected ${batchSize} ${expected}: ${JSON.stringify(answer)}`);
    });
  };
  const created = await batchIn(TIMES.monday, 'created');
  const unchanged = await batchIn(TIMES.monday, 'unchanged');
  const updated = await batchIn(TIMES.nextMonday, 'updated');
  const stale = await batchIn(TIMES.lastWeek, 'stale');
  const closing = await openRun(TIMES.mondayAfter, ['cost.example.com']);
  const close = await metered(batchSize, async () => {
    await call(scanner, 'POST', `/scans/${closing}/complete`);
    for (let poll = 0; ; poll += 1) {
      const receipt = await call(scanner, 'GET', `/scans/${closing}?org=${COST_ORG}`);
      if (receipt.state === 'closed') {
        const fixed = (receipt.counts as { fixed: number }).fixed;
        if (fixed !== batchSize) throw new Error(`the close fixed ${fixed} of ${batchSize}`);
        return;
      }
      if (poll > 600) throw new Error('the close did not end');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  const reopen = await batchIn(TIMES.weekAfter, 'reopened');
  const getPage = await metered(batchSize, async () => {
    const page = await call(dashboard, 'GET', `/vuln?org=${COST_ORG}&limit=${batchSize}&status=ALL`);
    if ((page.items as unknown[]).length !== batchSize) throw new Error('a short page');
  });
  // The close's receipt polls read the runs table only; its findings-table work is the close's own.
  return { batchSize, cases: { new: created, unchanged, updated, stale, close, reopen, getPage } };
}
