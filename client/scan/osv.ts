/**
 * OSV-Scanner JSON (`osv-scanner --format json`), streamed (json-stream.ts): `{"results": [{"source":
 * {path, type}, "packages": [{"package": {name, version, ecosystem}, "vulnerabilities": [OSV entries],
 * "groups": [{ids, aliases, max_severity}]}]}]}`. One finding per group of a package (OSV-Scanner
 * groups the ids of one vulnerability: a GHSA and its CVE), or per vulnerability when there are no groups.
 *
 * An OSV entry can list thousands of affected versions, so only the fields mapped are read of it
 * (never `affected[].versions`), and a package's entries are held until the package ends.
 */
import type { Readable } from 'node:stream';
import { selectJson, type JsonPath, type JsonSelector } from './json-stream';
import type { CvssPair, MappingOptions } from './mapping';
import { isRecord, listOf, numberOf, text, toPackageFinding, type PackageItem } from './packages';
import { noteIgnored, type ParseStats, type ScanRecord } from './records';

const RESULT = ['results', '#'];
const PACKAGE = [...RESULT, 'packages', '#'];
const VULNERABILITY = [...PACKAGE, 'vulnerabilities', '#'];
const VULNERABILITY_FIELDS = ['id', 'aliases', 'summary', 'details', 'severity', 'references', 'database_specific'];

const SELECTORS: JsonSelector[] = [
  { name: 'source.path', pattern: [...RESULT, 'source', 'path'], primitiveOnly: true },
  { name: 'package', pattern: [...PACKAGE, 'package'] },
  { name: 'groups', pattern: [...PACKAGE, 'groups'] },
  ...VULNERABILITY_FIELDS.map((field) => ({ name: `vulnerability.${field}`, pattern: [...VULNERABILITY, field] })),
  { name: 'affected.package', pattern: [...VULNERABILITY, 'affected', '#', 'package'] },
  { name: 'affected.ranges', pattern: [...VULNERABILITY, 'affected', '#', 'ranges'] },
  { name: 'affected.database_specific', pattern: [...VULNERABILITY, 'affected', '#', 'database_specific'] },
  { name: 'vulnerability.end', pattern: VULNERABILITY, end: true },
  { name: 'package.end', pattern: PACKAGE, end: true },
];

interface Entry {
  fields: Record<string, unknown>;
  affected: { package?: unknown; ranges?: unknown; database_specific?: unknown }[];
}

interface PackageDraft {
  key: string;
  package?: Record<string, unknown>;
  groups: unknown[];
  entries: Entry[];
}

const keyOf = (path: JsonPath, length: number) => JSON.stringify(path.slice(0, length));

const CVSS_FAMILIES: Record<string, 'cvss2' | 'cvss3' | 'cvss4'> = {
  CVSS_V2: 'cvss2',
  CVSS_V3: 'cvss3',
  CVSS_V4: 'cvss4',
};

/** The fixed version of this package in an entry's affected ranges (the first `fixed` event). */
function fixedVersionOf(entries: Entry[], name: string): string | undefined {
  for (const entry of entries)
    for (const affected of entry.affected.filter(Boolean)) {
      if (isRecord(affected.package) && affected.package.name !== undefined && affected.package.name !== name) continue;
      for (const range of listOf(affected.ranges))
        for (const event of isRecord(range) ? listOf(range.events) : [])
          if (isRecord(event) && text(event.fixed) !== undefined) return text(event.fixed);
    }
  return undefined;
}

function itemOf(entries: Entry[], rule: string, aliases: string[], maxSeverity: unknown, name: string) {
  const field = (key: string) => entries.map((entry) => entry.fields[key]);
  const cvss: Pick<PackageItem, 'cvss2' | 'cvss3' | 'cvss4'> = {};
  const score = numberOf(maxSeverity)?.toString();
  for (const severity of field('severity').flatMap(listOf)) {
    if (!isRecord(severity)) continue;
    const family = CVSS_FAMILIES[text(severity.type) ?? ''];
    if (family !== undefined) cvss[family] ??= { vector: text(severity.score) } satisfies CvssPair;
  }
  // OSV-Scanner's max_severity is the group's highest CVSS base score: it goes with the vector of the highest family.
  const family = cvss.cvss3 ? 'cvss3' : cvss.cvss4 ? 'cvss4' : cvss.cvss2 ? 'cvss2' : 'cvss3';
  cvss[family] = { ...cvss[family], score };
  const databaseSpecific = field('database_specific').filter(isRecord);
  return {
    rule,
    aliases,
    title: field('summary').map(text).find(Boolean),
    severity: databaseSpecific.map((specific) => text(specific.severity)).find(Boolean) ?? '',
    fixedVersion: fixedVersionOf(entries, name),
    cwes: [
      ...databaseSpecific.flatMap((specific) => listOf(specific.cwe_ids).map(String)),
      ...entries.flatMap((entry) =>
        entry.affected
          .filter(Boolean)
          .flatMap((affected) =>
            isRecord(affected.database_specific)
              ? listOf(affected.database_specific.cwes).map((cwe) => (isRecord(cwe) ? String(cwe.cweId) : String(cwe)))
              : [],
          ),
      ),
    ],
    references: field('references')
      .flatMap(listOf)
      .map((reference) => (isRecord(reference) ? text(reference.url) : undefined)),
    ...cvss,
    description: field('details').map(text).find(Boolean) ?? field('summary').map(text).find(Boolean),
  };
}

export async function* parseOsv(
  input: Readable | AsyncIterable<string>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  let source: string | undefined;
  let current: PackageDraft | undefined;
  let entry: Entry | undefined;
  const seen = new Set<string>();
  const draftFor = (path: JsonPath) => {
    const key = keyOf(path, PACKAGE.length);
    if (current === undefined || current.key !== key) current = { key, groups: [], entries: [] };
    return current;
  };

  function* finish(draft: PackageDraft, where: string): Generator<ScanRecord> {
    const pkg = draft.package ?? {};
    const name = text(pkg.name);
    const version = text(pkg.version) ?? text(pkg.commit);
    if (name === undefined || version === undefined || source === undefined) {
      if (draft.entries.length > 0)
        stats.skipped.push({ where, reason: 'names no package name and version, or its result no source path' });
      return;
    }
    const byId = new Map(draft.entries.map((one) => [text(one.fields.id) ?? '', one]));
    const groups = draft.groups.filter(isRecord).filter((group) => listOf(group.ids).length > 0);
    const units =
      groups.length > 0
        ? groups.map((group) => {
            const ids = listOf(group.ids).map((id) => String(id));
            return {
              rule: ids[0] as string,
              aliases: [...ids, ...listOf(group.aliases).map(String)],
              entries: ids.map((id) => byId.get(id)).filter((one): one is Entry => one !== undefined),
              maxSeverity: group.max_severity,
            };
          })
        : [...byId].map(([id, one]) => ({
            rule: id,
            aliases: listOf(one.fields.aliases).map(String),
            entries: [one],
            maxSeverity: undefined,
          }));
    for (const unit of units) {
      if (unit.rule === '') continue;
      const finding = toPackageFinding(
        {
          asset: source,
          ...itemOf(unit.entries, unit.rule, unit.aliases, unit.maxSeverity, name),
          packageName: name,
          packageVersion: version,
          family: text(pkg.ecosystem),
        },
        options,
      );
      if (seen.has(finding.VulnID as string)) {
        noteIgnored(stats, 'repeated');
        continue;
      }
      seen.add(finding.VulnID as string);
      yield { finding, where: `${where}, ${unit.rule}` };
    }
  }

  for await (const selection of selectJson(input as AsyncIterable<string>, SELECTORS)) {
    const { name, path } = selection;
    if (selection.kind === 'end') {
      if (name === 'vulnerability.end') {
        stats.items += 1;
        if (entry !== undefined) draftFor(path).entries.push(entry);
        entry = undefined;
      } else if (current !== undefined && current.key === keyOf(path, PACKAGE.length)) {
        yield* finish(current, `result ${(path[1] as number) + 1}, package ${(path[3] as number) + 1}`);
        current = undefined;
      }
      continue;
    }
    const { value } = selection;
    if (name === 'source.path') source = text(value);
    else if (name === 'package') draftFor(path).package = isRecord(value) ? value : {};
    else if (name === 'groups') draftFor(path).groups = listOf(value);
    else {
      entry ??= { fields: {}, affected: [] };
      if (name.startsWith('vulnerability.')) entry.fields[name.slice('vulnerability.'.length)] = value;
      else {
        const index = path[VULNERABILITY.length + 1] as number;
        const affected = (entry.affected[index] ??= {});
        affected[name.slice('affected.'.length) as keyof Entry['affected'][number]] = value;
      }
    }
  }
}

/** `results` whose entries hold `source` or `packages` (and no Trivy or Grype keys). */
export function isOsv(paths: Set<string>): boolean {
  return paths.has('results') && (paths.has('results.*.packages') || paths.has('results.*.source'));
}
