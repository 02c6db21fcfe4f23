/**
 * Grype JSON (`grype IMAGE|DIR -o json`), streamed (json-stream.ts): `{"matches": [{vulnerability,
 * relatedVulnerabilities, matchDetails, artifact}], "source": {type, target}, "distro", "descriptor":
 * {name, version, timestamp}}`. One finding per match (a vulnerability in a package at a location).
 *
 * Grype writes the scanned image or directory (`source`) after the matches, and the asset is part of
 * a finding's identity, so matches are reduced to their mapped fields while reading, spooled to a
 * temporary file (spool.ts), and become findings at the end: memory holds each finding's key, never
 * the matches or the file.
 */
import type { Readable } from 'node:stream';
import { selectJson, type JsonSelector } from './json-stream';
import type { CvssPair, MappingOptions } from './mapping';
import { dateOf, isRecord, listOf, numberOf, text, toPackageFinding, type PackageItem } from './packages';
import { noteIgnored, noteScanTime, type ParseStats, type ScanRecord } from './records';
import { Spool } from './spool';

const SELECTORS: JsonSelector[] = [
  { name: 'match', pattern: ['matches', '#'] },
  { name: 'source.target', pattern: ['source', 'target'], primitiveOnly: true },
  { name: 'source.userInput', pattern: ['source', 'target', 'userInput'], primitiveOnly: true },
  { name: 'source.name', pattern: ['source', 'name'], primitiveOnly: true },
  { name: 'timestamp', pattern: ['descriptor', 'timestamp'], primitiveOnly: true },
];

/** CVSS of a Grype vulnerability: the newer `cvss: [{version, vector, metrics: {baseScore}}]` or the older `cvssV3`/`cvssV2`. */
function cvssOfGrype(vulnerability: Record<string, unknown>): Pick<PackageItem, 'cvss2' | 'cvss3' | 'cvss4'> {
  const found: Pick<PackageItem, 'cvss2' | 'cvss3' | 'cvss4'> = {};
  for (const entry of listOf(vulnerability.cvss)) {
    if (!isRecord(entry)) continue;
    const version = text(entry.version) ?? '';
    const pair: CvssPair = {
      score: numberOf(isRecord(entry.metrics) ? entry.metrics.baseScore : undefined)?.toString(),
      vector: text(entry.vector),
    };
    const family = version.startsWith('4') ? 'cvss4' : version.startsWith('3') ? 'cvss3' : 'cvss2';
    // The first of each family (Grype lists the primary source first).
    found[family] ??= pair;
  }
  for (const [key, family] of [
    ['cvssV3', 'cvss3'],
    ['cvssV2', 'cvss2'],
  ] as const) {
    const entry = vulnerability[key];
    if (isRecord(entry)) found[family] ??= { score: numberOf(entry.baseScore)?.toString(), vector: text(entry.vector) };
  }
  return found;
}

type MatchDraft = Omit<PackageItem, 'asset' | 'scannedAt'> & { where: string };

/** The mapped fields of one match, or the reason it cannot be one. */
function draftOf(match: unknown, where: string): MatchDraft | string {
  if (!isRecord(match) || !isRecord(match.vulnerability) || !isRecord(match.artifact))
    return 'has no vulnerability or artifact object';
  const { vulnerability, artifact } = match;
  const rule = text(vulnerability.id);
  const packageName = text(artifact.name);
  const packageVersion = text(artifact.version);
  if (rule === undefined || packageName === undefined || packageVersion === undefined)
    return 'has no vulnerability id, artifact name or artifact version';
  const related = listOf(match.relatedVulnerabilities).filter(isRecord);
  const fix = isRecord(vulnerability.fix) ? vulnerability.fix : {};
  // Newer Grype writes fix.versions; 0.7 wrote one fixedInVersion.
  const fixedVersions = [...listOf(fix.versions), vulnerability.fixedInVersion].map(text);
  const firstLocation = listOf(artifact.locations).find(isRecord);
  const epss = listOf(vulnerability.epss).find(isRecord);
  const cvss = cvssOfGrype(vulnerability);
  // A GHSA match carries its CVE (and its CVSS) in relatedVulnerabilities.
  for (const other of related) {
    const otherCvss = cvssOfGrype(other);
    cvss.cvss3 ??= otherCvss.cvss3;
    cvss.cvss2 ??= otherCvss.cvss2;
  }
  return {
    where,
    rule,
    aliases: related.map((other) => text(other.id) ?? ''),
    severity: text(vulnerability.severity) ?? '',
    packageName,
    packageVersion,
    fixedVersion: fixedVersions.find((version) => version !== undefined),
    packagePath: text(firstLocation?.path),
    family: text(artifact.type),
    cwes: listOf(vulnerability.cwes).map((cwe) => (isRecord(cwe) ? String(cwe.cwe ?? '') : String(cwe))),
    references: [
      text(vulnerability.dataSource),
      ...[...listOf(vulnerability.urls), ...listOf(vulnerability.links)].map(text),
      ...related.flatMap((other) => [...listOf(other.urls), ...listOf(other.links)].map(text)),
    ],
    ...cvss,
    epss: numberOf(epss?.epss),
    knownExploit: listOf(vulnerability.knownExploited).length > 0 ? true : undefined,
    description: text(vulnerability.description) ?? related.map((other) => text(other.description)).find(Boolean),
  };
}

export async function* parseGrype(
  input: Readable | AsyncIterable<string>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const drafts = new Spool<MatchDraft>();
  try {
    const source: Record<string, string> = {};
    let scannedAt: Date | undefined;
    for await (const selection of selectJson(input as AsyncIterable<string>, SELECTORS)) {
      if (selection.kind !== 'value') continue;
      if (selection.name === 'match') {
        stats.items += 1;
        const where = `match ${(selection.path[1] as number) + 1}`;
        const draft = draftOf(selection.value, where);
        if (typeof draft === 'string') stats.skipped.push({ where, reason: draft });
        else drafts.write(draft);
      } else if (selection.name === 'timestamp') {
        scannedAt = dateOf(selection.value);
        noteScanTime(stats, scannedAt);
      } else if (typeof selection.value === 'string') source[selection.name] = selection.value;
    }
    // The image as the user named it, else a directory or file target, else the source's name.
    const asset = source['source.userInput'] ?? source['source.target'] ?? source['source.name'];
    const seen = new Set<string>();
    for (const draft of drafts.read()) {
      if (asset === undefined) {
        stats.skipped.push({ where: draft.where, reason: 'the report names no source (image or directory)' });
        continue;
      }
      const finding = toPackageFinding({ ...draft, asset, scannedAt }, options);
      if (seen.has(finding.VulnID as string)) {
        noteIgnored(stats, 'repeated');
        continue;
      }
      seen.add(finding.VulnID as string);
      yield { finding, where: draft.where };
    }
  } finally {
    drafts.close();
  }
}

/** `matches` whose entries hold `vulnerability` and `artifact` (or an empty report with Grype's descriptor). */
export function isGrype(paths: Set<string>): boolean {
  return (
    paths.has('matches') &&
    (paths.has('matches.*.vulnerability') || paths.has('matches.*.artifact') || paths.has('descriptor.name'))
  );
}
