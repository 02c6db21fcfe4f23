/**
 * `npm run bench:import [-- --format NAME] [--mb N]`: reads a generated export of each format (Nessus
 * 100 MB, Trivy, Grype and OSV-Scanner 200 MB each, or N MB) through the push pipeline up to the
 * request bodies (recognise, parse, map, validate, batch; no network), one child process per format so
 * each peak memory is its own, and reports MB/s and findings/s (of wall-clock and of CPU time: on a
 * shared machine the wall clock says more about the neighbours) and peak resident memory against the
 * targets (memory, and at least 2 MB per CPU second). Exit code 1 when a target is missed. Timing and memory live here, never in tests.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MAX_FINDINGS_PER_REQUEST } from '../functions/shared/core/limits';
import { batchesOf } from '../client/push/batches';
import { validFindings, withRunScanner } from '../client/push/push';
import { DEFAULT_DUE_DAYS } from '../client/scan/mapping';
import { writeSyntheticNessus } from '../client/scan/synthetic-nessus';
import {
  SYNTHETIC_JSON_FORMATS,
  writeSyntheticReport,
  type SyntheticJsonFormat,
} from '../client/scan/synthetic-exports';
import { runMain } from './checks';

const BENCH_FORMATS = ['nessus', ...SYNTHETIC_JSON_FORMATS] as const;
type BenchFormat = (typeof BENCH_FORMATS)[number];
const DEFAULT_MB: Record<BenchFormat, number> = { nessus: 100, trivy: 200, grype: 200, osv: 200 };
/**
 * Resident memory of the whole process (runtime included) while reading. Grype's reader holds the
 * mapped matches until the report's source (written after them) names the asset, so it may use more.
 */
const TARGETS = { peakRssMb: { nessus: 400, trivy: 400, grype: 600, osv: 400 }, minMbPerCpuSecond: 2 };

interface Measure {
  format: BenchFormat;
  fileMb: number;
  findings: number;
  seconds: number;
  /** CPU time of the process (user + system): what the reading costs on a machine other work shares. */
  cpuSeconds: number;
  peakRssMb: number;
}

/** One format in this process: generate, read through to the batches, measure. */
async function measure(format: BenchFormat, mb: number): Promise<Measure> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-import-'));
  try {
    const path = join(dir, `synthetic.${format === 'nessus' ? 'nessus' : 'json'}`);
    const records =
      format === 'nessus'
        ? await writeSyntheticNessus(path, { hosts: Math.max(1, Math.round(mb * 6)), itemsPerHost: 100 })
        : await writeSyntheticReport(path, format as SyntheticJsonFormat, mb * 1024 * 1024);
    const fileMb = (await stat(path)).size / 1024 / 1024;
    global.gc?.();
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const mapping = await withRunScanner(
      [path],
      { org: 'bench', dueDays: DEFAULT_DUE_DAYS, now: new Date() },
      undefined,
    );
    let findings = 0;
    for await (const batch of batchesOf(validFindings([path], mapping), {
      maxFindings: MAX_FINDINGS_PER_REQUEST,
      maxBytes: 65_536,
    }))
      findings += batch.findings.length;
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (findings !== records) throw new Error(`${format}: read ${findings} findings of ${records} records`);
    return { format, fileMb, findings, seconds, cpuSeconds, peakRssMb: peak / 1024 / 1024 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs one format in a child process (so its peak memory is its own) and reads its measure. */
function inChild(format: BenchFormat, mb: number): Promise<Measure> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', __filename, '--format', format, '--mb', String(mb), '--json'],
      { maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${format}: ${stderr.trim() || error.message}`));
        else resolve(JSON.parse(stdout) as Measure);
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
  const mbOf = (format: BenchFormat) => (values.mb === undefined ? DEFAULT_MB[format] : Number(values.mb));
  if (values.json) {
    const [format] = formats as [BenchFormat];
    console.log(JSON.stringify(await measure(format, mbOf(format))));
    return 0;
  }
  let missed = 0;
  console.log('format    file MB   seconds   MB/s   CPU s   MB/CPU s   findings   findings/s   peak RSS MB (target)');
  for (const format of formats) {
    const result = await inChild(format, mbOf(format));
    const mbPerSecond = result.fileMb / result.seconds;
    const mbPerCpuSecond = result.fileMb / result.cpuSeconds;
    const target = TARGETS.peakRssMb[format];
    const ok = result.peakRssMb <= target && mbPerCpuSecond >= TARGETS.minMbPerCpuSecond;
    if (!ok) missed += 1;
    console.log(
      `${format.padEnd(8)} ${result.fileMb.toFixed(0).padStart(8)} ${result.seconds.toFixed(1).padStart(9)} ${mbPerSecond.toFixed(1).padStart(6)} ${result.cpuSeconds.toFixed(1).padStart(7)} ${mbPerCpuSecond.toFixed(1).padStart(10)} ${String(result.findings).padStart(10)} ${Math.round(
        result.findings / result.seconds,
      )
        .toString()
        .padStart(12)}   ${result.peakRssMb.toFixed(0).padStart(6)} (≤ ${target}) ${ok ? 'PASS' : 'FAIL'}`,
    );
  }
  return missed > 0 ? 1 : 0;
}

runMain(main);
