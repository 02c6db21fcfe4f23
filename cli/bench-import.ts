/**
 * `npm run bench:import [-- --format NAME] [--mb N]`: reads a generated export of every format push
 * reads (Nessus 100 MB, the others 200 MB each by default, or N MB; bench/import.ts) through the push
 * pipeline up to the request bodies (no network), one child process per format so each peak memory is
 * its own, and reports MB/s and findings/s (of wall-clock and of CPU time: on a shared machine the wall
 * clock says more about the neighbours) and peak resident memory against the targets (memory, and at
 * least 2 MB per CPU second). Exit code 1 when a target is missed. Timing and memory live here, never
 * in tests.
 */
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BENCH_FORMATS, measureImport, type BenchFormat, type ImportMeasure } from '../bench/import';
import { runMain } from './checks';

const DEFAULT_MB = (format: BenchFormat) => (format === 'nessus' ? 100 : 200);
/**
 * Resident memory of the whole process (runtime included) while reading, the same for every format:
 * the readers that must see a whole export before emitting (they merge a detection reported twice, or
 * need a glossary or an asset written after the detections: Tenable CSV, Tenable VM, OpenVAS, Qualys,
 * Grype) spool to a temporary file (client/scan/spool.ts) and hold keys, not findings.
 */
const TARGETS = {
  peakRssMb: 400,
  minMbPerCpuSecond: 2,
};

/** Runs one format in a child process (so its peak memory is its own) and reads its measure. */
function inChild(format: BenchFormat, mb: number): Promise<ImportMeasure> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', __filename, '--format', format, '--mb', String(mb), '--json'],
      { maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${format}: ${stderr.trim() || error.message}`));
        else resolve(JSON.parse(stdout) as ImportMeasure);
      },
    );
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { format: { type: 'string' }, mb: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const formats = values.format === undefined ? [...BENCH_FORMATS] : [values.format as BenchFormat];
  if (formats.some((format) => !BENCH_FORMATS.includes(format)))
    throw new Error(`--format must be one of ${BENCH_FORMATS.join(', ')}`);
  const mbOf = (format: BenchFormat) => (values.mb === undefined ? DEFAULT_MB(format) : Number(values.mb));
  if (values.json) {
    const [format] = formats as [BenchFormat];
    const result = await measureImport(format, mbOf(format));
    if (result.recognisedAs !== format) throw new Error(`${format}: the export was read as ${result.recognisedAs}`);
    if (result.findings !== result.records)
      throw new Error(`${format}: read ${result.findings} findings of ${result.records} records`);
    console.log(JSON.stringify(result));
    return 0;
  }
  let missed = 0;
  console.log(
    'format          file MB   seconds   MB/s   CPU s   MB/CPU s   findings   findings/s   peak RSS MB (target)',
  );
  for (const format of formats) {
    const result = await inChild(format, mbOf(format));
    const mbPerSecond = result.fileMb / result.seconds;
    const mbPerCpuSecond = result.fileMb / result.cpuSeconds;
    const target = TARGETS.peakRssMb;
    const ok = result.peakRssMb <= target && mbPerCpuSecond >= TARGETS.minMbPerCpuSecond;
    if (!ok) missed += 1;
    console.log(
      [
        format.padEnd(14),
        result.fileMb.toFixed(1).padStart(8),
        result.seconds.toFixed(1).padStart(9),
        mbPerSecond.toFixed(1).padStart(6),
        result.cpuSeconds.toFixed(1).padStart(7),
        mbPerCpuSecond.toFixed(1).padStart(10),
        String(result.findings).padStart(10),
        Math.round(result.findings / result.seconds)
          .toString()
          .padStart(12),
        `  ${result.peakRssMb.toFixed(0).padStart(6)} (≤ ${target}) ${ok ? 'PASS' : 'FAIL'}`,
      ].join(' '),
    );
  }
  return missed > 0 ? 1 : 0;
}

runMain(main);
