/**
 * `npm run bench:import` works for every format at a tiny size (bench/import.ts, each format's
 * generator in client/scan/synthetic-*.ts): the generated export is recognised as its format and every
 * record it holds is read into one valid finding. No timing or memory is asserted (the bench reports them).
 */
import { SCAN_FORMATS } from '../../client/scan/records';
import { BENCH_FORMATS, measureImport } from '../../bench/import';

test('the bench has a generator for every format push reads', () => {
  expect([...BENCH_FORMATS].sort()).toEqual([...SCAN_FORMATS].sort());
});

test.each([...BENCH_FORMATS])('%s: a generated export is read whole, one valid finding a record', async (format) => {
  const result = await measureImport(format, 0.05);
  expect([result.format, result.recognisedAs]).toEqual([format, format]);
  expect(result.fileMb).toBeGreaterThan(0.04);
  expect(result.records).toBeGreaterThan(10);
  expect(result.findings).toBe(result.records);
});
