/** What every reader yields, the counts it keeps, and the errors that refuse a file. */
import type { Finding } from '../../functions/shared/core/finding-schema';

/** Every format `npm run push` reads (client/scan/formats.ts registers a reader for each). */
export const SCAN_FORMATS = [
  'nessus',
  'csv',
  'json',
  'tenable-vm-csv',
  'openvas-xml',
  'openvas-csv',
  'qualys-xml',
  'qualys-csv',
  'trivy',
  'grype',
  'inspector2',
  'asff',
  'osv',
] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** A finding as read from a file (not yet validated) and where it came from, for error messages. */
export interface ScanRecord {
  finding: Partial<Finding>;
  where: string;
}

/** Counts a parser keeps while it reads: items as written (ReportItems, rows, vulnerabilities) and what it skipped. */
export interface ParseStats {
  items: number;
  /** Records the API would refuse or the reader could not map: counted as rejected, so the run is not completed. */
  skipped: { where: string; reason: string }[];
  /**
   * Records that are not vulnerability findings and are left out by design, counted by kind (Trivy's
   * misconfigurations, secrets and licenses): reported, never an error.
   */
  ignored?: Record<string, number>;
  /** The earliest scan time the export states (Nessus HOST_START, a CSV's scan date column, a report's creation), if any. */
  scanStart?: Date;
}

export const newParseStats = (): ParseStats => ({ items: 0, skipped: [], ignored: {} });

/** Counts `count` records of `kind` left out by design. */
export function noteIgnored(stats: ParseStats, kind: string, count = 1): void {
  stats.ignored ??= {};
  stats.ignored[kind] = (stats.ignored[kind] ?? 0) + count;
}

/** Keeps the earliest scan time an export states: a run's `scannedAt` defaults to the scan's start. */
export function noteScanTime(stats: ParseStats, scannedAt: Date | undefined): void {
  if (
    scannedAt !== undefined &&
    Number.isFinite(scannedAt.getTime()) &&
    (stats.scanStart === undefined || scannedAt < stats.scanStart)
  )
    stats.scanStart = scannedAt;
}

/**
 * Why a file is refused, each with its own exit code of `npm run push` (nothing is sent in any case).
 * 1 is "some finding was rejected or failed", 2 a usage error or a file of no format we read.
 */
export const REFUSAL_EXIT_CODES = {
  'not-an-export': 2,
  malformed: 3,
  truncated: 4,
  'xml-dtd': 5,
  'too-deep': 6,
  'record-too-large': 7,
  'invalid-utf8': 8,
} as const;
export type RefusalKind = keyof typeof REFUSAL_EXIT_CODES;

/** The file is not an export we read (wrong root element, no known header, not JSON findings…). */
export class NotAScanExportError extends Error {
  override readonly name = 'NotAScanExportError';
  readonly kind: RefusalKind = 'not-an-export';
}

/** The file claims to be an export but breaks its format (malformed XML, a DOCTYPE, a bad row, too deep…). */
export class MalformedExportError extends Error {
  override readonly name = 'MalformedExportError';
  constructor(
    message: string,
    readonly kind: Exclude<RefusalKind, 'not-an-export'> = 'malformed',
  ) {
    super(message);
  }
}

/** The exit code for a refused file: by its kind, else 2. */
export const exitCodeOf = (error: unknown): number =>
  error instanceof MalformedExportError || error instanceof NotAScanExportError ? REFUSAL_EXIT_CODES[error.kind] : 2;
