/**
 * `npm run push` as a library: check every file first (each must be a scan export, and each finding
 * is validated with the API's schema: nothing is sent when a file is not an export), then stream the
 * files again into batches and send them with bounded concurrency. Files are read twice rather than
 * held: memory stays bounded by a host (Nessus) or a file's merged findings (CSV), never by the scan.
 */
import type { Finding } from '../../functions/shared/core/finding-schema';
import type { MappingOptions } from '../scan/mapping';
import { detectFormat, readScanFile, runScannerOf, type ScanFormat } from '../scan/read-scan';
import { newParseStats } from '../scan/records';
import { batchesOf, type Batch, type BatchLimits } from './batches';
import { addReports, emptyReport, type BatchReport, type BatchSender, type FindingProblem } from './sender';

/** The file that stopped the check, and why (NotAScanExportError, MalformedExportError, or an I/O error). */
export class ScanFileError extends Error {
  override readonly name = 'ScanFileError';
  constructor(
    readonly path: string,
    override readonly cause: Error,
  ) {
    super(`${path}: ${cause.name === 'NotAScanExportError' ? 'not a scan export: ' : ''}${cause.message}`);
  }
}

export interface FileCheck {
  path: string;
  format: ScanFormat;
  /** Records as written: ReportItems, CSV rows (blank padding rows excepted), JSON entries. */
  items: number;
  /** Distinct findings after merging, valid ones. */
  valid: number;
  /** Findings or records the API would refuse, or that could not be read, with the reason. */
  invalid: FindingProblem[];
  /** The earliest scan time the file states, if it states one. */
  scanStart?: Date | undefined;
  /** Records left out by design (not vulnerabilities), by kind. */
  ignored?: Record<string, number>;
}

/** The scan's start time across the files: the earliest any of them states, if any does. */
export const scanStartOf = (files: FileCheck[]): Date | undefined =>
  files.reduce<Date | undefined>(
    (earliest, file) =>
      file.scanStart !== undefined && (earliest === undefined || file.scanStart < earliest) ? file.scanStart : earliest,
    undefined,
  );

export interface PushProgress {
  /** Findings with an answer so far. */
  done: number;
  /** Valid findings to send in all. */
  total: number;
}

export interface PushSummary {
  files: FileCheck[];
  /** Distinct findings read (valid and invalid). */
  parsed: number;
  sent: number;
  created: number;
  updated: number;
  unchanged: number;
  stale: number;
  reopened: number;
  /** Refused locally (invalid) or by the API (400, 403, 413 alone). */
  rejected: FindingProblem[];
  /** Not stored for a transient reason that outlasted the retries, or an unusable answer. */
  failed: FindingProblem[];
  batches: number;
  requests: number;
  splits: number;
}

const wrap = (path: string, error: unknown) =>
  new ScanFileError(path, error instanceof Error ? error : new Error(String(error)));

/**
 * The mapping for these files with the run's scanner settled: `--scanner` when given, else the one
 * their formats name. Throws ScanFileError for a file of no format we read.
 */
export async function withRunScanner(
  paths: string[],
  mapping: Omit<MappingOptions, 'scanner'>,
  scanner: string | undefined,
): Promise<MappingOptions> {
  const formats = [];
  for (const path of paths) {
    try {
      formats.push(await detectFormat(path, mapping.format));
    } catch (error) {
      throw wrap(path, error);
    }
  }
  try {
    return { ...mapping, scanner: runScannerOf(formats, scanner) };
  } catch (error) {
    throw wrap(paths.join(', '), error);
  }
}

/** Reads every file through once: formats, counts and invalid findings. Throws ScanFileError at the first unreadable file. */
export async function checkScanFiles(paths: string[], mapping: MappingOptions): Promise<FileCheck[]> {
  const checks: FileCheck[] = [];
  for (const path of paths) {
    const stats = newParseStats();
    const check: FileCheck = { path, format: 'json', items: 0, valid: 0, invalid: [] };
    try {
      check.format = (await detectFormat(path, mapping.format)).name;
      for await (const record of readScanFile(path, mapping, stats)) {
        if (record.ok) check.valid += 1;
        else check.invalid.push({ vulnId: record.finding.VulnID ?? record.where, reason: record.reason });
      }
    } catch (error) {
      throw wrap(path, error);
    }
    check.items = stats.items;
    check.scanStart = stats.scanStart;
    check.ignored = stats.ignored;
    check.invalid.push(...stats.skipped.map((skip) => ({ vulnId: skip.where, reason: skip.reason })));
    checks.push(check);
  }
  return checks;
}

/** The valid findings of the files, in order, streamed. */
export async function* validFindings(paths: string[], mapping: MappingOptions): AsyncGenerator<Finding> {
  for (const path of paths) {
    try {
      for await (const record of readScanFile(path, mapping)) if (record.ok) yield record.finding;
    } catch (error) {
      throw wrap(path, error);
    }
  }
}

/** Runs `work` on every element of `source` with at most `concurrency` at once. */
async function forEachConcurrently<T>(
  source: AsyncIterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  const worker = async () => {
    // Concurrent next() calls on an async generator are queued by the language: each item goes to one worker.
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

export interface PushOptions {
  mapping: MappingOptions;
  limits: BatchLimits;
  concurrency: number;
  sender: BatchSender;
  onBatch?: (report: BatchReport, progress: PushProgress) => void;
}

/** Checks, then sends every valid finding of the files. Throws ScanFileError (nothing sent) when a file is not an export. */
export async function pushScanFiles(paths: string[], options: PushOptions): Promise<PushSummary> {
  return sendCheckedFiles(paths, await checkScanFiles(paths, options.mapping), options);
}

/** Sends every valid finding of files already checked (checkScanFiles), with bounded concurrency. */
export async function sendCheckedFiles(
  paths: string[],
  files: FileCheck[],
  options: PushOptions,
): Promise<PushSummary> {
  const total = files.reduce((sum, file) => sum + file.valid, 0);
  const summary: PushSummary = {
    files,
    parsed: total + files.reduce((sum, file) => sum + file.invalid.length, 0),
    sent: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    stale: 0,
    reopened: 0,
    rejected: files.flatMap((file) => file.invalid),
    failed: [],
    batches: 0,
    requests: 0,
    splits: 0,
  };
  const all: BatchReport = emptyReport();
  await forEachConcurrently(
    batchesOf(validFindings(paths, options.mapping), options.limits),
    options.concurrency,
    async (batch: Batch) => {
      const report = await options.sender.send(batch);
      addReports(all, report);
      summary.batches += 1;
      options.onBatch?.(report, { done: all.findings, total });
    },
  );
  summary.sent = all.findings;
  summary.created = all.created;
  summary.updated = all.updated;
  summary.unchanged = all.unchanged;
  summary.stale = all.stale;
  summary.reopened = all.reopened;
  summary.rejected.push(...all.rejected);
  summary.failed = all.failed;
  summary.requests = all.requests;
  summary.splits = all.splits;
  return summary;
}

/** `--dry-run`: the same checks and batches, nothing sent. */
export async function planScanFiles(
  paths: string[],
  options: Pick<PushOptions, 'mapping' | 'limits'>,
): Promise<{ files: FileCheck[]; batches: AsyncGenerator<Batch> }> {
  const files = await checkScanFiles(paths, options.mapping);
  return { files, batches: batchesOf(validFindings(paths, options.mapping), options.limits) };
}

/** Nothing rejected and nothing failed. */
export const pushSucceeded = (summary: Pick<PushSummary, 'rejected' | 'failed'>) =>
  summary.rejected.length === 0 && summary.failed.length === 0;
