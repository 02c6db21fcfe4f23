/**
 * Findings already in our own shape: one finding object, an array of them, or `{"findings":[...]}`.
 * A finding without an Org gets the `--org` of the command. Streamed like the scanners' JSON
 * (json-stream.ts): memory holds one chunk and one finding, whatever the file's size, and the same
 * refusals apply (nesting too deep, a finding larger than a whole request, invalid UTF-8, a truncated
 * file).
 */
import type { Finding } from '../../functions/shared/core/finding-schema';
import { IMPORT_LIMITS, utf8Text } from './input';
import { selectJson, type JsonSelector } from './json-stream';
import { MalformedExportError, NotAScanExportError, type ParseStats, type ScanRecord } from './records';

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * `findings` (read through) before `*`: the wrapper's entries are `findings.#`; a top-level array's
 * entries and a single finding's fields are both `*` (an index or a key).
 */
const SELECTORS: JsonSelector[] = [
  { name: 'wrapper', pattern: ['findings'], through: true },
  { name: 'wrapper', pattern: ['findings'], end: true },
  { name: 'entry', pattern: ['findings', '#'] },
  { name: 'top', pattern: ['*'] },
];

/** The first character of the document past blanks and a byte-order mark: `[`, `{` or something else. */
async function* noteFirst(input: AsyncIterable<string>, first: { char?: string }): AsyncGenerator<string> {
  for await (const text of input) {
    first.char ??= text.replace(/^\uFEFF/, '').trimStart()[0];
    yield text;
  }
}

export async function* parseJsonFindings(
  input: AsyncIterable<string | Buffer>,
  org: string,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const first: { char?: string } = {};
  let wrapper = false;
  /** A single finding's fields (a top-level object), bounded as one record. */
  const single: Record<string, unknown> = {};
  let singleSize = 0;

  const entry = (value: unknown, index: number): ScanRecord | undefined => {
    stats.items += 1;
    const where = `finding ${index + 1}`;
    if (!isObject(value)) {
      stats.skipped.push({ where, reason: 'is not a JSON object' });
      return undefined;
    }
    return { finding: (value.Org === undefined ? { ...value, Org: org } : value) as Partial<Finding>, where };
  };

  for await (const selection of selectJson(noteFirst(utf8Text(input), first), SELECTORS)) {
    const [head, index] = selection.path;
    if (selection.name === 'wrapper') {
      if (selection.kind === 'end') wrapper = true;
      else if (first.char === '{') single.findings = selection.value;
      continue;
    }
    if (selection.kind !== 'value') continue;
    if (selection.name === 'entry') {
      const record = entry(selection.value, index as number);
      if (record !== undefined) yield record;
    } else if (first.char === '[') {
      const record = entry(selection.value, head as number);
      if (record !== undefined) yield record;
    } else {
      singleSize += (head as string).length + JSON.stringify(selection.value).length;
      if (singleSize > IMPORT_LIMITS.maxRecordBytes)
        throw new MalformedExportError(
          `has a record over ${IMPORT_LIMITS.maxRecordBytes} bytes at the top level, larger than a whole request`,
          'record-too-large',
        );
      single[head as string] = selection.value;
    }
  }
  if (first.char === '[' || wrapper) return;
  if (first.char === '{' && 'VulnID' in single) {
    const record = entry(single, 0);
    if (record !== undefined) yield record;
    return;
  }
  throw new NotAScanExportError('is JSON but neither a finding, an array of findings nor {"findings": [...]}');
}
