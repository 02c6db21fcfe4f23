/**
 * One entry point for every export: the format is recognised from the file's first bytes (never
 * from its name alone), and each record is validated with the API's own schema, so what the API
 * would refuse is refused before anything is sent, with the same message.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { z } from 'zod';
import { findingSchema, type Finding } from '../../functions/shared/core/finding-schema';
import { parseJsonFindings } from './json-findings';
import type { MappingOptions } from './mapping';
import { parseNessus } from './nessus';
import {
  MalformedExportError,
  NotAScanExportError,
  newParseStats,
  type ParseStats,
  type ScanFormat,
  type ScanRecord,
} from './records';
import { parseTenableCsv } from './tenable-csv';

export { MalformedExportError, NotAScanExportError, type ParseStats, type ScanFormat };

const SNIFF_BYTES = 4096;

/** Recognises a format from the start of a file: `<` XML (Nessus), `{`/`[` JSON, else CSV (its header decides). */
export function formatOf(start: Buffer): ScanFormat {
  const text = start
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (text.startsWith('<')) return 'nessus';
  if (text.startsWith('{') || text.startsWith('[')) return 'json';
  if (text.length === 0) throw new NotAScanExportError('it is empty');
  // A binary file is no CSV export: NUL bytes never occur in text.
  if (start.includes(0)) throw new NotAScanExportError('it is a binary file, not a scan export');
  return 'csv';
}

export async function detectFormat(path: string): Promise<ScanFormat> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return formatOf(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export type ValidatedRecord =
  | { ok: true; finding: Finding; where: string }
  | { ok: false; finding: Partial<Finding>; where: string; reason: string };

/** The reasons the API's schema gives, as `Field: message; …` (at most three). */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map(
      (issue) =>
        `${issue.path.join('.') || 'finding'}: ${issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message}`,
    )
    .join('; ');
}

function recordsOf(
  format: ScanFormat,
  path: string,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const input = createReadStream(path, { highWaterMark: 64 * 1024 });
  if (format === 'nessus') return parseNessus(input, options, stats);
  if (format === 'csv') return parseTenableCsv(input, options, stats);
  return parseJsonFindings(input, options.org, stats);
}

/** Every record of a scan file, validated. Parse errors surface as NotAScanExportError or MalformedExportError. */
export async function* readScanFile(
  path: string,
  options: MappingOptions,
  stats: ParseStats = newParseStats(),
): AsyncGenerator<ValidatedRecord> {
  const format = await detectFormat(path);
  for await (const record of recordsOf(format, path, options, stats)) {
    const parsed = findingSchema.safeParse(record.finding);
    if (parsed.success) yield { ok: true, finding: parsed.data, where: record.where };
    else yield { ok: false, finding: record.finding, where: record.where, reason: describeIssues(parsed.error) };
  }
}
