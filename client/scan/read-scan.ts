/**
 * One entry point for every export: the format is recognised from the file's content (never from its
 * name; `--format` forces one, client/scan/formats.ts), the text is checked UTF-8, and each record is
 * validated with the API's own schema, so what the API would refuse is refused before anything is
 * sent, with the same message.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { findingSchema, type Finding } from '../../functions/shared/core/finding-schema';
import { formatNamed, IMPORT_SNIFF_BYTES, recogniseFormat, type ScanFormatReader } from './formats';
import { utf8Text } from './input';
import { JsonScanner } from './json-stream';
import type { MappingOptions } from './mapping';
import { MalformedExportError, NotAScanExportError, newParseStats, type ParseStats, type ScanFormat } from './records';
import { isExternalOnlyDoctype, xmlDoctypeOf } from './xml-stream';

export { MalformedExportError, NotAScanExportError, type ParseStats, type ScanFormat };

/** The start of a file as text: refuses an empty file, a binary one and invalid UTF-8 before any reader runs. */
export function startText(start: Buffer): string {
  if (start.length === 0) throw new NotAScanExportError('it is empty');
  // A binary file is no export: NUL bytes never occur in text.
  if (start.includes(0)) throw new NotAScanExportError('it is a binary file, not a scan export');
  let text: string;
  try {
    // Streaming, so a character cut at the end of the sample is not an error.
    text = new TextDecoder('utf-8', { fatal: true }).decode(start, { stream: true });
  } catch {
    throw new MalformedExportError('is not valid UTF-8 text; export it as UTF-8', 'invalid-utf8');
  }
  if (text.trim().length === 0) throw new NotAScanExportError('it is empty');
  return text;
}

/**
 * The format of a file from its first bytes (or the forced one). A DTD in an XML prolog is refused here
 * for every format, but the external-only DOCTYPE a format's own exports carry (xml-stream.ts).
 */
export function formatOf(start: Buffer, forced?: ScanFormat): ScanFormatReader {
  const text = startText(start);
  const doctype = xmlDoctypeOf(text);
  const refuseDoctype = (format: ScanFormatReader | undefined) => {
    if (doctype !== undefined && !isExternalOnlyDoctype(doctype, format?.externalDtdRoots ?? []))
      throw new MalformedExportError('has a DOCTYPE; no export has one, and DTDs are never processed', 'xml-dtd');
  };
  if (forced !== undefined) {
    const format = formatNamed(forced);
    refuseDoctype(format);
    if (format === undefined) throw new NotAScanExportError(`--format ${forced} is no format push reads`);
    return format;
  }
  let format: ScanFormatReader;
  try {
    format = recogniseFormat(text);
  } catch (error) {
    refuseDoctype(undefined);
    // A whole small file that is broken JSON is told so, rather than "no format".
    if (start.length < IMPORT_SNIFF_BYTES && /^\uFEFF?\s*[[{]/.test(text)) {
      const scanner = new JsonScanner([], () => undefined);
      scanner.write(text);
      scanner.end();
    }
    throw error;
  }
  refuseDoctype(format);
  return format;
}

export async function detectFormat(path: string, forced?: ScanFormat): Promise<ScanFormatReader> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(IMPORT_SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, IMPORT_SNIFF_BYTES, 0);
    return formatOf(buffer.subarray(0, bytesRead), forced);
  } finally {
    await handle.close();
  }
}

/**
 * The run's scanner: `--scanner` when given, else the one the files' formats name (our JSON names
 * none and takes the others'), else `json`. Files of two scanners are one run only with --scanner.
 */
export function runScannerOf(formats: ScanFormatReader[], override?: string): string {
  if (override !== undefined) return override;
  const scanners = [...new Set(formats.map((format) => format.scanner).filter((scanner) => scanner !== ''))];
  if (scanners.length > 1)
    throw new Error(
      `the files are exports of ${scanners.join(' and ')}: push each scanner's files separately, or name one with --scanner`,
    );
  return scanners[0] ?? 'json';
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

/** The file's text, checked UTF-8, as the stream a reader gets. */
export const textOf = (path: string): Readable =>
  Readable.from(utf8Text(createReadStream(path, { highWaterMark: 64 * 1024 })));

/** Every record of a scan file, validated. Parse errors surface as NotAScanExportError or MalformedExportError. */
export async function* readScanFile(
  path: string,
  options: MappingOptions,
  stats: ParseStats = newParseStats(),
): AsyncGenerator<ValidatedRecord> {
  const format = await detectFormat(path, options.format);
  for await (const record of format.read(textOf(path), options, stats)) {
    const parsed = findingSchema.safeParse(record.finding);
    if (parsed.success) yield { ok: true, finding: parsed.data, where: record.where };
    else yield { ok: false, finding: record.finding, where: record.where, reason: describeIssues(parsed.error) };
  }
}
