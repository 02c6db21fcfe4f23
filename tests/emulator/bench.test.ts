/** `npm run bench` works end to end at tiny sizes: every figure has its raw baseline and ratio. No timing is asserted. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileFiles, summarizeProfiles } from '../../bench/profile-summary';
import { runBench } from '../../bench/run';
import { alternate } from '../../bench/stats';
import { formatTable, resultRows } from '../../bench/table';

test('the bench measures the stack and its raw baselines and gives each pair a ratio', async () => {
  const silent = { phase: () => undefined, tick: () => undefined, done: () => undefined };
  const profiles = mkdtempSync(join(tmpdir(), 'bench-profiles-'));
  const results = await runBench(
    {
      clients: 2,
      singleRequests: 2,
      batchRequests: 1,
      batchSize: 5,
      readFindings: 30,
      pageSize: 10,
      readPages: 2,
      coldStartRuns: 1,
      rounds: 2,
      closeFindings: 30,
      sustainedFindings: 10,
      sustainedRounds: 2,
      triageRequests: 2,
    },
    silent,
    { cpuProfileDir: profiles },
  );
  for (const ingest of [results.ingestBatch1, results.ingestBatch100]) {
    expect(ingest.pipeline.count).toBeGreaterThan(0);
    expect(ingest.raw.findingsPerSecond).toBeGreaterThan(0);
    expect(ingest.ingestRatio).toBeGreaterThan(0);
    expect(ingest.p99Ratio).toBeGreaterThan(0);
  }
  expect(results.ingestBatch1.pipeline.count).toBe(4);
  expect(results.ingestBatch100.raw.count).toBe(10);
  expect(results.read.pipeline.count).toBe(4);
  // Sustained: 2 clients x 2 batches of 5, in 2 slices per side; each side's DynamoDB work counted.
  expect(results.sustained).toMatchObject({ findings: 20, pipeline: { count: 4 }, raw: { count: 20 } });
  expect(results.sustained.pipelineCost.requestsPerFinding).toBe(1);
  expect(results.sustained.rawCost).toMatchObject({ requestsPerFinding: 1, allRequestsPerFinding: 1 });
  expect(results.sustained.pipelineCost.allRequestsPerFinding).toBeGreaterThanOrEqual(1);
  // Every case of the lifecycle counted on a batch of 5: one request per finding where the issue holds it.
  for (const name of ['new', 'unchanged', 'updated', 'stale'] as const)
    expect([name, results.cost.cases[name].requestsPerFinding]).toEqual([name, 1]);
  expect(results.cost.cases.stale.refusalsPerFinding).toBe(1);
  expect(results.cost.cases.reopen.requestsPerFinding).toBe(2);
  expect(results.cost.cases.getPage.operations).toEqual({ Query: expect.objectContaining({ requests: 1 }) });
  expect(results.read.p99Ratio).toBeGreaterThan(0);
  // Triage: 2 clients x 2 batches of 5 on each side, each beside its raw conditional UpdateItems.
  expect(results.triage).toMatchObject({ batchSize: 5, pipeline: { count: 4 }, raw: { count: 4 } });
  expect(results.triage.raw.findingsPerSecond).toBeGreaterThan(0);
  expect(results.triage.triageRatio).toBeGreaterThan(0);
  expect(results.triage.p99Ratio).toBeGreaterThan(0);
  expect(formatTable(resultRows(results))).toContain('triage, batch 5: findings/s');
  // The summary of the read org, built by the stream consumer from the 30 seeded findings, read 2 x 2 times each side.
  expect(results.summaryRead).toMatchObject({ findingsCounted: 30, pipeline: { count: 4 }, raw: { count: 4 } });
  expect(results.summaryRead.p99Ratio).toBeGreaterThan(0);
  expect(results.close).toMatchObject({ findings: 30, closed: 30 });
  expect(results.close.rawFindingsPerSecond).toBeGreaterThan(0);
  expect(results.close.closeRatio).toBeGreaterThan(0);
  expect(Object.keys(results.coldStart.functions).sort()).toEqual([
    'AuthorizeFunction',
    'CloseRunFunction',
    'FindingEventsFunction',
    'GetFindingHistoryFunction',
    'GetFindingsFunction',
    'GetOrgSummaryFunction',
    'GetScanRunFunction',
    'NormalizeFunction',
    'ScanRunsFunction',
    'TriageFindingsFunction',
    'ValidateFunction',
    'WriteFunction',
  ]);
  expect(
    Object.values(results.coldStart.functions).every(
      (item) => item.initRatio > 0 && item.initCpuRatio > 0 && item.bytes > 0,
    ),
  ).toBe(true);
  expect(results.memory.peakRssMb).toBeGreaterThan(0);
  expect(results.targets).toHaveLength(4);
  expect(formatTable(resultRows(results))).toContain('ingestRatio');
  expect(formatTable(resultRows(results))).toContain('closeRatio');
  expect(formatTable(resultRows(results))).toContain('GET /vuln/summary (30 findings counted)');
  // --cpu-prof: every execution environment and the DynamoDB-API server left a profile, read back by package through the bundles' source maps.
  try {
    const write = summarizeProfiles(profileFiles(join(profiles, 'WriteFunction')), join(__dirname, '../..'));
    expect(write.busyMs).toBeGreaterThan(0);
    expect(write.bySource.map((entry) => entry.source)).toEqual(expect.arrayContaining(['@smithy/core', 'zod']));
    expect(profileFiles(join(profiles, 'dynamodb')).length).toBeGreaterThan(0);
  } finally {
    rmSync(profiles, { recursive: true, force: true });
  }
}, 180_000);

test('alternate measures the loads in alternating slices and merges each load', async () => {
  const order: string[] = [];
  const load = (name: string) => async (start: number, count: number) => {
    order.push(`${name}${start}+${count}`);
    return { latencies: Array.from({ length: count }, () => 1), elapsedMs: 10 };
  };
  const [a, b] = await alternate(2, 5, [load('a'), load('b')]);
  expect(order).toEqual(['a0+3', 'b0+3', 'a3+2', 'b3+2']);
  expect(a).toEqual({ latencies: [1, 1, 1, 1, 1], elapsedMs: 20 });
  expect(b?.latencies).toHaveLength(5);
});
