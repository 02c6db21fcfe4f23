/**
 * The import benchmark's measure of one format (cli/bench-import.ts runs each in its own process and
 * prints the table): a generated export of the format read through the push pipeline up to the request
 * bodies (recognise, parse, map, validate, batch; no network), timed by wall clock and CPU time, with
 * the process's peak resident memory.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MAX_FINDINGS_PER_REQUEST } from '../functions/shared/core/limits';
import { batchesOf } from '../client/push/batches';
import { validFindings, withRunScanner } from '../client/push/push';
import { DEFAULT_DUE_DAYS } from '../client/scan/mapping';
import { detectFormat } from '../client/scan/read-scan';
import { SYNTHETIC_FORMATS, writeSyntheticReport, type SyntheticFormat } from '../client/scan/synthetic-exports';
import { writeSyntheticNessus } from '../client/scan/synthetic-nessus';

/** Every format push reads. */
export const BENCH_FORMATS = ['nessus', ...SYNTHETIC_FORMATS] as const;
export type BenchFormat = (typeof BENCH_FORMATS)[number];

export interface ImportMeasure {
  format: BenchFormat;
  /** The format the generated file was recognised as, from its content. */
  recognisedAs: string;
  fileMb: number;
  /** Records the generator wrote; every one is a distinct finding. */
  records: number;
  findings: number;
  seconds: number;
  /** CPU time of the process (user + system): what the reading costs on a machine other work shares. */
  cpuSeconds: number;
  peakRssMb: number;
}

const EXTENSIONS: Partial<Record<BenchFormat, string>> = {
  nessus: 'nessus',
  csv: 'csv',
  'tenable-vm-csv': 'csv',
  'openvas-csv': 'csv',
  'qualys-csv': 'csv',
  'openvas-xml': 'xml',
  'qualys-xml': 'xml',
};

/** Writes an export of about `mb` MB of `format` to `path`; resolves with its number of records. */
function writeSynthetic(format: BenchFormat, path: string, mb: number): Promise<number> {
  return format === 'nessus'
    ? writeSyntheticNessus(path, { hosts: Math.max(1, Math.round(mb * 6)), itemsPerHost: 100 })
    : writeSyntheticReport(path, format as SyntheticFormat, mb * 1024 * 1024);
}

/** One format in this process: generate, read through to the batches, measure. */
export async function measureImport(format: BenchFormat, mb: number): Promise<ImportMeasure> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-import-'));
  try {
    const path = join(dir, `synthetic.${EXTENSIONS[format] ?? 'json'}`);
    const records = await writeSynthetic(format, path, mb);
    const fileMb = (await stat(path)).size / 1024 / 1024;
    const recognisedAs = (await detectFormat(path)).name;
    global.gc?.();
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    let findings = 0;
    try {
      const mapping = await withRunScanner(
        [path],
        { org: 'bench', dueDays: DEFAULT_DUE_DAYS, now: new Date() },
        undefined,
      );
      for await (const batch of batchesOf(validFindings([path], mapping), {
        maxFindings: MAX_FINDINGS_PER_REQUEST,
        maxBytes: 65_536,
      }))
        findings += batch.findings.length;
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      format,
      recognisedAs,
      fileMb,
      records,
      findings,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMb: peak / 1024 / 1024,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
