/** Running one reader over a fixture or a text, for the readers' unit tests (fixtures: tests/fixtures/scans). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MappingOptions } from '../../client/scan/mapping';
import { newParseStats, type ParseStats, type ScanRecord } from '../../client/scan/records';
import type { DraftedFinding } from '../../client/scan/draft';
import { MAPPING, SCANS_DIR, chunked } from './scans';

export type Reader = (
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
) => AsyncGenerator<ScanRecord>;

export const fixture = (...path: string[]) => join(SCANS_DIR, ...path);
export const fixtureText = (...path: string[]) => readFileSync(fixture(...path), 'utf8');

/** Every finding a reader yields for a text given in small chunks, with its counts. */
export async function readText(
  reader: Reader,
  text: string,
  scanner: string,
): Promise<{ findings: DraftedFinding[]; stats: ParseStats }> {
  const stats = newParseStats();
  const findings: DraftedFinding[] = [];
  for await (const record of reader(chunked(text, 997), { ...MAPPING, scanner }, stats))
    findings.push(record.finding as DraftedFinding);
  return { findings, stats };
}

export const assetsOf = (findings: DraftedFinding[]) => new Set(findings.map((finding) => finding.AssetName)).size;
