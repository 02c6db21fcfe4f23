/** What every parser yields, and the one error a file that is not a scan export raises. */
import type { Finding } from '../../functions/shared/core/finding-schema';

export type ScanFormat = 'nessus' | 'csv' | 'json';

/** A finding as read from a file (not yet validated) and where it came from, for error messages. */
export interface ScanRecord {
  finding: Partial<Finding>;
  where: string;
}

/** Counts a parser keeps while it reads: items as written (ReportItems, rows) and what it skipped. */
export interface ParseStats {
  items: number;
  skipped: { where: string; reason: string }[];
  /** The earliest scan time the export states (Nessus HOST_START, a CSV's scan date column), if any. */
  scanStart?: Date;
}

export const newParseStats = (): ParseStats => ({ items: 0, skipped: [] });

/** Keeps the earliest scan time an export states: a run's `scannedAt` defaults to the scan's start. */
export function noteScanTime(stats: ParseStats, scannedAt: Date | undefined): void {
  if (scannedAt !== undefined && (stats.scanStart === undefined || scannedAt < stats.scanStart))
    stats.scanStart = scannedAt;
}

/** The file is not an export we read (wrong root element, no known header, not JSON findings…). */
export class NotAScanExportError extends Error {
  override readonly name = 'NotAScanExportError';
}

/** The file claims to be an export but breaks its format (malformed XML, a DOCTYPE, a bad row…). */
export class MalformedExportError extends Error {
  override readonly name = 'MalformedExportError';
}
