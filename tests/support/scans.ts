/** The scan export fixtures (tests/fixtures/scans, licence notice beside them) and ways to read them. */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { DEFAULT_DUE_DAYS, type MappingOptions } from '../../client/scan/mapping';
import { readScanFile, type ValidatedRecord } from '../../client/scan/read-scan';
import { newParseStats, type ParseStats } from '../../client/scan/records';

export const SCANS_DIR = join(__dirname, '..', 'fixtures', 'scans');
export const NESSUS_SAMPLE = join(SCANS_DIR, 'nessus_with_cvssv3.nessus');
export const CSV_SAMPLE = join(SCANS_DIR, 'nessus_many_vuln.csv');
export const JSON_SAMPLE = join(SCANS_DIR, 'findings.json');

export const MAPPING: MappingOptions = {
  org: 'org1',
  scanner: 'nessus',
  dueDays: DEFAULT_DUE_DAYS,
  now: new Date('2026-01-15T12:00:00Z'),
};

/** Every record of a file, validated, with the parser's counts. */
export async function readAll(
  path: string,
  mapping: MappingOptions = MAPPING,
): Promise<{ records: ValidatedRecord[]; stats: ParseStats }> {
  const stats = newParseStats();
  const records: ValidatedRecord[] = [];
  for await (const record of readScanFile(path, mapping, stats)) records.push(record);
  return { records, stats };
}

/** Text as a stream of small chunks, so parsers meet element and cell boundaries mid-chunk. */
export const chunked = (text: string, size = 7) =>
  Readable.from(Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size)));
