/**
 * Findings already in our own shape: one finding object, an array of them, or `{"findings":[...]}`.
 * A finding without an Org gets the `--org` of the command. The file is read whole (these are
 * hand-made or exported by our own tools, not scanner-sized), up to a bound.
 */
import type { Finding } from '../../functions/shared/core/finding-schema';
import { MalformedExportError, NotAScanExportError, type ParseStats, type ScanRecord } from './records';

/** Bigger JSON files should be split, or written as a scanner export. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export async function* parseJsonFindings(
  input: AsyncIterable<string | Buffer>,
  org: string,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_JSON_BYTES)
      throw new MalformedExportError(`is over ${MAX_JSON_BYTES / 1024 / 1024} MB of JSON; split it`);
    chunks.push(bytes);
  }
  let document: unknown;
  try {
    document = JSON.parse(
      Buffer.concat(chunks)
        .toString('utf8')
        .replace(/^\uFEFF/, ''),
    );
  } catch {
    throw new MalformedExportError('is not valid JSON');
  }
  const list = Array.isArray(document)
    ? document
    : isObject(document) && Array.isArray(document.findings)
      ? document.findings
      : isObject(document) && 'VulnID' in document
        ? [document]
        : undefined;
  if (list === undefined)
    throw new NotAScanExportError('is JSON but neither a finding, an array of findings nor {"findings": [...]}');
  for (const [index, entry] of list.entries()) {
    stats.items += 1;
    if (!isObject(entry)) {
      stats.skipped.push({ where: `finding ${index + 1}`, reason: 'is not a JSON object' });
      continue;
    }
    const finding = (entry.Org === undefined ? { ...entry, Org: org } : entry) as Partial<Finding>;
    yield { finding, where: `finding ${index + 1}` };
  }
}
