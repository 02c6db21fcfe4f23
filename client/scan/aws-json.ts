/**
 * Small readers of untyped JSON values, for the AWS finding formats (Inspector v2, Security Hub ASFF):
 * a field is used only when it has the type the API documents, so a hostile or odd value is left out
 * instead of reaching a finding as `[object Object]`.
 */
import { utf8Text } from './input';
import { selectJson } from './json-stream';
import type { CvssPair } from './mapping';
import { dateOf, isRecord, listOf, numberOf, text } from './packages';

export type JsonObject = Record<string, unknown>;

/** The field `key` of a value that is an object (packages.ts's helpers say what counts as a string, number, date). */
const field = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined);

export const isObject = isRecord;

export const objectAt = (value: unknown, key: string): JsonObject | undefined => {
  const found = field(value, key);
  return isObject(found) ? found : undefined;
};

export const stringAt = (value: unknown, key: string): string | undefined => text(field(value, key))?.trim();

export const numberAt = (value: unknown, key: string): number | undefined => numberOf(field(value, key));

export const arrayAt = (value: unknown, key: string): unknown[] => listOf(field(value, key));

export const stringsAt = (value: unknown, key: string): string[] =>
  arrayAt(value, key).filter((item): item is string => typeof item === 'string');

/** A date of an ISO 8601 string field. */
export const dateAt = (value: unknown, key: string): Date | undefined => dateOf(field(value, key));

/** `YES` → true, `NO` → false, anything else unknown. */
export const yesNoAt = (value: unknown, key: string): boolean | undefined => {
  const found = stringAt(value, key)?.toUpperCase();
  return found === 'YES' ? true : found === 'NO' ? false : undefined;
};

/** Text the AWS consoles write where there is none. */
const PLACEHOLDERS = new Set(['none provided', 'notavailable', 'not available']);
export const meaningful = (value: string | undefined) =>
  value !== undefined && !PLACEHOLDERS.has(value.trim().toLowerCase()) ? value : undefined;

/** A CVSS entry (score, vector, version) into the draft's pair of its version family; the first of a family wins. */
export function cvssPairsOf(
  entries: { score?: number | undefined; vector?: string | undefined; version?: string | undefined }[],
) {
  const pairs: { cvss2?: CvssPair; cvss3?: CvssPair; cvss4?: CvssPair } = {};
  for (const entry of entries) {
    const version = entry.version ?? /^CVSS:(\d)/.exec(entry.vector ?? '')?.[1] ?? (entry.vector ? '2' : undefined);
    const family = version?.startsWith('4')
      ? 'cvss4'
      : version?.startsWith('3')
        ? 'cvss3'
        : version?.startsWith('2')
          ? 'cvss2'
          : undefined;
    if (family === undefined || pairs[family] !== undefined) continue;
    pairs[family] = { score: entry.score === undefined ? undefined : String(entry.score), vector: entry.vector };
  }
  return pairs;
}

/** `name version-release` as the package manager writes the installed version (epoch left out unless not 0). */
export function installedVersionOf(
  version: string | undefined,
  release: string | undefined,
  epoch: unknown,
): string | undefined {
  if (version === undefined) return undefined;
  const withEpoch =
    epoch !== undefined && epoch !== null && String(epoch) !== '0' && String(epoch) !== ''
      ? `${String(epoch)}:${version}`
      : version;
  return release === undefined ? withEpoch : `${withEpoch}-${release}`;
}

/**
 * The items of the array at `key` of the export's top-level object (`findings`, `Findings`), one at a
 * time, with the streaming JSON reader: memory holds one finding, whatever the file's size.
 */
export async function* itemsAt(input: AsyncIterable<string | Buffer>, key: string): AsyncGenerator<unknown> {
  for await (const selection of selectJson(utf8Text(input), [{ name: key, pattern: [key, '*'] }]))
    if (selection.kind === 'value') yield selection.value;
}
