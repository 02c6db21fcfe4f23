/** `npm run bench` works end to end at tiny sizes: every figure has its raw baseline and ratio. No timing is asserted. */
import { runBench } from '../../bench/run';
import { formatTable, resultRows } from '../../bench/table';

test('the bench measures the stack and its raw baselines and gives each pair a ratio', async () => {
  const silent = { phase: () => undefined, tick: () => undefined, done: () => undefined };
  const results = await runBench({ clients: 2, singleRequests: 2, batchRequests: 1, batchSize: 5, readFindings: 30, pageSize: 10, readPages: 2, coldStartRuns: 1, closeFindings: 30 }, silent);
  for (const ingest of [results.ingestBatch1, results.ingestBatch100]) {
    expect(ingest.pipeline.count).toBeGreaterThan(0);
    expect(ingest.raw.findingsPerSecond).toBeGreaterThan(0);
    expect(ingest.ingestRatio).toBeGreaterThan(0);
    expect(ingest.p99Ratio).toBeGreaterThan(0);
  }
  expect(results.ingestBatch1.pipeline.count).toBe(4);
  expect(results.ingestBatch100.raw.count).toBe(10);
  expect(results.read.pipeline.count).toBe(4);
  expect(results.read.p99Ratio).toBeGreaterThan(0);
  expect(results.close).toMatchObject({ findings: 30, closed: 30 });
  expect(results.close.rawFindingsPerSecond).toBeGreaterThan(0);
  expect(results.close.closeRatio).toBeGreaterThan(0);
  expect(Object.keys(results.coldStart.functions).sort()).toEqual([
    'AuthorizeFunction',
    'CloseRunFunction',
    'GetFindingsFunction',
    'GetScanRunFunction',
    'NormalizeFunction',
    'ScanRunsFunction',
    'ValidateFunction',
    'WriteFunction',
  ]);
  expect(Object.values(results.coldStart.functions).every((item) => item.initRatio > 0 && item.bytes > 0)).toBe(true);
  expect(results.memory.peakRssMb).toBeGreaterThan(0);
  expect(results.targets).toHaveLength(4);
  expect(formatTable(resultRows(results))).toContain('ingestRatio');
  expect(formatTable(resultRows(results))).toContain('closeRatio');
}, 180_000);
