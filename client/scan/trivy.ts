/**
 * Trivy JSON reports (`trivy image|fs|repo|k8s -f json`), streamed (json-stream.ts):
 * - SchemaVersion 2: `{"SchemaVersion": 2, "ArtifactName", "CreatedAt", "Results": [{Target, Class, Type,
 *   Vulnerabilities: [...]}]}`;
 * - the older list form: `[{Target, Type, Vulnerabilities: [...]}]`;
 * - Kubernetes reports: `{"ClusterName", "Resources": [{Namespace, Kind, Name, Results: [...]}]}` (and the
 *   older `{"ClusterName", "Vulnerabilities": [{Namespace, Kind, Name, Results}], "Misconfigurations": [...]}`).
 * One finding per vulnerability of a package; misconfigurations, secrets and licenses are not
 * vulnerabilities: left out and counted. A vulnerability becomes a finding as soon as its result's
 * Target is known (Trivy writes it first); one that comes before its Target waits for the result's end.
 */
import type { Readable } from 'node:stream';
import type { MappingOptions } from './mapping';
import { selectJson, type JsonPath, type JsonSelector } from './json-stream';
import { dateOf, isRecord, listOf, numberOf, text, toPackageFinding, type PackageItem } from './packages';
import { noteIgnored, noteScanTime, type ParseStats, type ScanRecord } from './records';
import type { CvssPair } from './mapping';

/** Where a list of results sits: the report's, the older list form's (the root), a Kubernetes resource's. */
const RESULT_LISTS: { prefix: string[]; resource: boolean }[] = [
  { prefix: ['Results', '#'], resource: false },
  { prefix: ['#'], resource: false },
  { prefix: ['Resources', '#', 'Results', '#'], resource: true },
  { prefix: ['Vulnerabilities', '#', 'Results', '#'], resource: true },
  { prefix: ['Misconfigurations', '#', 'Results', '#'], resource: true },
];
const RESOURCE_FIELDS = ['Namespace', 'Kind', 'Name'] as const;
const LEFT_OUT = { Misconfigurations: 'misconfigurations', Secrets: 'secrets', Licenses: 'licenses' } as const;

function selectors(): JsonSelector[] {
  const list: JsonSelector[] = [
    { name: 'artifact', pattern: ['ArtifactName'], primitiveOnly: true },
    { name: 'created', pattern: ['CreatedAt'], primitiveOnly: true },
    { name: 'cluster', pattern: ['ClusterName'], primitiveOnly: true },
  ];
  for (const { prefix, resource } of RESULT_LISTS) {
    for (const field of ['Target', 'Type', 'Class'])
      list.push({ name: `result.${field}`, pattern: [...prefix, field], primitiveOnly: true });
    list.push({ name: 'vulnerability', pattern: [...prefix, 'Vulnerabilities', '#'] });
    for (const field of Object.keys(LEFT_OUT))
      list.push({ name: `left-out.${field}`, pattern: [...prefix, field, '#'] });
    list.push({ name: 'result.end', pattern: prefix, end: true });
    if (resource)
      for (const field of RESOURCE_FIELDS)
        list.push({ name: `resource.${field}`, pattern: [...prefix.slice(0, 2), field], primitiveOnly: true });
  }
  return list;
}

/** The CVSS of the source Trivy took the severity from, else NVD's, else GHSA's, else any. */
function cvssOfTrivy(vulnerability: Record<string, unknown>): Pick<PackageItem, 'cvss2' | 'cvss3' | 'cvss4'> {
  const sources = isRecord(vulnerability.CVSS) ? vulnerability.CVSS : {};
  const preferred = [text(vulnerability.SeveritySource), 'nvd', 'ghsa', ...Object.keys(sources)];
  const name = preferred.find((key) => key !== undefined && isRecord(sources[key]));
  const entry = name === undefined ? undefined : (sources[name] as Record<string, unknown>);
  if (entry === undefined) return {};
  const pair = (score: unknown, vector: unknown): CvssPair => ({
    score: numberOf(score)?.toString(),
    vector: text(vector),
  });
  return {
    cvss3: pair(entry.V3Score, entry.V3Vector),
    cvss4: pair(entry.V40Score, entry.V40Vector),
    cvss2: pair(entry.V2Score, entry.V2Vector),
  };
}

interface ResultDraft {
  key: string;
  fields: Record<string, string>;
  vulnerabilities: { value: Record<string, unknown>; where: string }[];
}

const keyOf = (path: JsonPath, length: number) => JSON.stringify(path.slice(0, length));

export async function* parseTrivy(
  input: Readable | AsyncIterable<string>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const top: Record<string, string> = {};
  const resources = new Map<string, Record<string, string>>();
  let result: ResultDraft | undefined;
  const seen = new Set<string>();

  /** The result a selection belongs to: its list's prefix is the path up to the result's index. */
  const resultFor = (path: JsonPath, prefixLength: number): ResultDraft => {
    const key = keyOf(path, prefixLength);
    if (result === undefined || result.key !== key) result = { key, fields: {}, vulnerabilities: [] };
    return result;
  };
  const prefixLengthOf = (path: JsonPath, tail: number) => path.length - tail;

  function* finish(draft: ResultDraft, path: JsonPath): Generator<ScanRecord> {
    const resourcePath = path.length > 2 ? keyOf(path, 2) : undefined;
    const resource = resourcePath === undefined ? undefined : resources.get(resourcePath);
    const target = draft.fields.Target;
    const workload =
      resource === undefined
        ? undefined
        : [top.cluster, resource.Namespace, resource.Kind, resource.Name].filter((part) => part).join('/');
    const asset = workload || top.artifact || target || '';
    for (const { value, where } of draft.vulnerabilities.splice(0, draft.vulnerabilities.length)) {
      const rule = text(value.VulnerabilityID);
      const packageName = text(value.PkgName);
      const packageVersion = text(value.InstalledVersion);
      if (rule === undefined || packageName === undefined || packageVersion === undefined || asset === '') {
        stats.skipped.push({
          where,
          reason: 'has no VulnerabilityID, PkgName or InstalledVersion, or its report names no artifact or target',
        });
        continue;
      }
      const pkgPath = text(value.PkgPath) ?? (target !== undefined && target !== asset ? target : undefined);
      const finding = toPackageFinding(
        {
          asset,
          rule,
          title: text(value.Title),
          severity: text(value.Severity) ?? '',
          packageName,
          packageVersion,
          fixedVersion: text(value.FixedVersion),
          packagePath: pkgPath,
          family: draft.fields.Type,
          cwes: listOf(value.CweIDs).map(String),
          references: [text(value.PrimaryURL), ...listOf(value.References).map((url) => text(url))],
          ...cvssOfTrivy(value),
          description: text(value.Description),
          scannedAt: dateOf(top.created),
        },
        options,
      );
      const id = finding.VulnID as string;
      if (seen.has(id)) {
        noteIgnored(stats, 'repeated');
        continue;
      }
      seen.add(id);
      yield { finding, where };
    }
  }

  for await (const selection of selectJson(input as AsyncIterable<string>, selectors())) {
    const { name, path } = selection;
    if (selection.kind === 'end') {
      // A result ended: its vulnerabilities become findings.
      if (result !== undefined && result.key === keyOf(path, path.length)) {
        yield* finish(result, path);
        result = undefined;
      }
      continue;
    }
    const value = selection.value;
    if (name === 'artifact' || name === 'created' || name === 'cluster') {
      if (typeof value === 'string') top[name] = value;
      if (name === 'created') noteScanTime(stats, dateOf(value));
    } else if (name.startsWith('resource.')) {
      const key = keyOf(path, 2);
      const fields = resources.get(key) ?? {};
      if (typeof value === 'string') fields[name.slice('resource.'.length)] = value;
      resources.clear();
      resources.set(key, fields);
    } else if (name.startsWith('result.')) {
      if (typeof value === 'string') resultFor(path, prefixLengthOf(path, 1)).fields[name.slice(7)] = value;
    } else if (name === 'vulnerability') {
      stats.items += 1;
      const where = `vulnerability ${path.join('.')}`;
      if (!isRecord(value)) stats.skipped.push({ where, reason: 'is not a JSON object' });
      else {
        const resultPath = path.slice(0, prefixLengthOf(path, 2));
        const draft = resultFor(path, resultPath.length);
        draft.vulnerabilities.push({ value, where });
        // Trivy writes a result's Target before its vulnerabilities: then each is mapped at once.
        if (draft.fields.Target !== undefined) yield* finish(draft, resultPath);
      }
    } else if (name.startsWith('left-out.')) {
      noteIgnored(stats, LEFT_OUT[name.slice('left-out.'.length) as keyof typeof LEFT_OUT]);
    }
  }
}

/** SchemaVersion 2 with Results or ArtifactName, a Kubernetes report, or the older list of {Target, Vulnerabilities}. */
export function isTrivy(paths: Set<string>): boolean {
  return (
    (paths.has('SchemaVersion') && (paths.has('ArtifactName') || paths.has('Results'))) ||
    (paths.has('ClusterName') && (paths.has('Resources') || paths.has('Vulnerabilities'))) ||
    (paths.has('*.Target') && (paths.has('*.Vulnerabilities') || paths.has('*.Type')))
  );
}
