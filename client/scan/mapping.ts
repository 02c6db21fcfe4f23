/**
 * The rules every reader's mapping shares (draft.ts applies them to a FindingDraft): severity words,
 * text bounds, asset names, CVEs, CVSS, due dates, Nessus's own VulnIDs, and merging the records of one
 * finding. Nothing here touches the network or the file system.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import {
  CVE_PATTERN,
  MAX_CVES,
  TEXT_LIMITS,
  cvssVersionOf,
  type Finding,
} from '../../functions/shared/core/finding-schema';
import type { RankedSeverity } from '../../functions/shared/core/severity';
import type { ScanFormat } from './records';

/** Names a network scanner reports for a host; the asset name is the first present of fqdn, dnsName, ip, name. */
export interface HostNames {
  fqdn?: string | undefined;
  dnsName?: string | undefined;
  ip?: string | undefined;
  name?: string | undefined;
}

export interface CvssPair {
  score?: string | undefined;
  vector?: string | undefined;
}

/** Days from the scan to the due date, per severity (`--due-days`). */
export type DueDays = Record<RankedSeverity, number>;
export const DEFAULT_DUE_DAYS: DueDays = { CRITICAL: 15, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: 365 };

export interface MappingOptions {
  org: string;
  /** The run's scanner: the format's (client/scan/formats.ts) unless --scanner names another. */
  scanner: string;
  /** `--format`: read every file as this format instead of recognising it. */
  format?: ScanFormat | undefined;
  dueDays: DueDays;
  /** The scan date when the export gives none. */
  now: Date;
}

const NESSUS_SEVERITY_NAMES: Record<string, string> = {
  '0': 'Info',
  '1': 'Low',
  '2': 'Medium',
  '3': 'High',
  '4': 'Critical',
};
const SEVERITY_WORDS: Record<string, string> = {
  none: 'Info',
  info: 'Info',
  informational: 'Info',
  // Grype's and Debian's level below low.
  negligible: 'Info',
  unimportant: 'Info',
  low: 'Low',
  medium: 'Medium',
  // GitHub advisories (OSV-Scanner).
  moderate: 'Medium',
  high: 'High',
  important: 'High',
  critical: 'Critical',
  // Trivy's and Grype's word for "the database gives none": the CVSS band decides (severity.ts).
  unknown: 'Unknown',
};

/** The Priority we store: the scanner's severity as a word our severity table knows (Nessus 4 → Critical). */
export function priorityOf(severity: string): string {
  const key = severity.trim().toLowerCase();
  if (Object.hasOwn(NESSUS_SEVERITY_NAMES, key)) return NESSUS_SEVERITY_NAMES[key] as string;
  if (Object.hasOwn(SEVERITY_WORDS, key)) return SEVERITY_WORDS[key] as string;
  return singleLine(severity, 64) || 'Unknown';
}

export const TRUNCATION_MARKER = '\n[… truncated by the import]';

/** Long text: CRLF and CR become LF, control characters other than LF and tab go, bounded with a marker. */
export function multilineText(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  const cleaned = value
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .trim();
  if (cleaned.length === 0) return undefined;
  return cleaned.length <= max ? cleaned : cleaned.slice(0, max - TRUNCATION_MARKER.length) + TRUNCATION_MARKER;
}

/** One-line text (names): every run of whitespace or control characters is one space. */
export function singleLine(value: string, max: number): string {
  return (
    value
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\s\u0000-\u001f\u007f]+/g, ' ')
      .trim()
      .slice(0, max)
      .trim()
  );
}

const assetKey = (asset: string) => asset.trim().toLowerCase();

/**
 * VulnID from (asset, plugin, port, protocol): the same vulnerability on the same host and service
 * always gets the same id, so a second push of a scan updates instead of duplicating, and two hosts
 * never share one (the asset is in the hash). Readable prefix, hashed tail, well under 128 characters.
 */
export function vulnIdOf(
  scanner: string,
  asset: string,
  pluginId: number,
  port: number | undefined,
  protocol: string | undefined,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([assetKey(asset), pluginId, port ?? null, protocol ?? null]))
    .digest('hex')
    .slice(0, 24);
  return `${scanner}-${pluginId}-${protocol ?? 'any'}${port ?? ''}-${digest}`;
}

const isAddress = (value: string | undefined): value is string => value !== undefined && isIP(value) !== 0;

export function assetNameOf(host: HostNames): string | undefined {
  const candidates = [
    host.fqdn,
    host.dnsName && !isAddress(host.dnsName) ? host.dnsName : undefined,
    host.ip,
    host.name,
  ];
  const found = candidates
    .map((value) => (value === undefined ? '' : singleLine(value, 255)))
    .find((value) => value.length > 0);
  return found;
}

/** CVE ids of a cell or element list: split on commas and whitespace, upper-cased, each once. */
export function cvesOf(values: string[]): string[] {
  const ids = values.flatMap((value) => value.split(/[\s,;]+/)).map((value) => value.trim().toUpperCase());
  return [...new Set(ids.filter((id) => CVE_PATTERN.test(id)))].slice(0, MAX_CVES);
}

function scoreOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const score = Number(text.trim());
  return Number.isFinite(score) && score >= 0 && score <= 10 ? Math.round(score * 10) / 10 : undefined;
}

/** Nessus writes v2 vectors as `CVSS2#AV:N/...`; Tenable CSVs write v3 vectors without `CVSS:3.0/`. */
function vectorOf(text: string | undefined, family: 'v2' | 'v3' | 'v4'): string | undefined {
  const vector = text?.trim().replace(/^CVSS2#/, '');
  if (!vector) return undefined;
  if (family === 'v3' && !vector.startsWith('CVSS:')) return `CVSS:3.0/${vector}`;
  return vector;
}

/** The CVSS fields: v3 when the export has a v3 score or vector, else v4, else v2; a vector of no known form is left out. */
export function cvssOf(item: {
  cvss2?: CvssPair | undefined;
  cvss3?: CvssPair | undefined;
  cvss4?: CvssPair | undefined;
}): Pick<Finding, 'CvssScore' | 'CvssVector' | 'CvssVersion'> {
  const families = [
    ['v3', item.cvss3],
    ['v4', item.cvss4],
    ['v2', item.cvss2],
  ] as const;
  for (const [family, pair] of families) {
    const score = scoreOf(pair?.score);
    const vector = vectorOf(pair?.vector, family);
    if (score === undefined && vector === undefined) continue;
    const version = vector === undefined ? undefined : cvssVersionOf(vector);
    return {
      ...(score === undefined ? {} : { CvssScore: score }),
      ...(version === undefined ? {} : { CvssVector: vector, CvssVersion: version }),
    };
  }
  return {};
}

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

export function dueDateOf(scannedAt: Date, days: number): string {
  return isoDay(new Date(scannedAt.getTime() + days * 86_400_000));
}

/**
 * Two records of the same vulnerability on the same host and service (same VulnID) are one finding:
 * CVEs united, evidence of both kept (the first's other fields win).
 */
export function mergeFindings(first: Partial<Finding>, second: Partial<Finding>): Partial<Finding> {
  const cves = [...new Set([...(first.Cves ?? []), ...(second.Cves ?? [])])].slice(0, MAX_CVES);
  const evidence = [first.Evidence, second.Evidence].filter((value): value is string => value !== undefined);
  const joined = [...new Set(evidence)].join('\n\n');
  const merged: Partial<Finding> = { ...first };
  if (cves.length > 0) merged.Cves = cves;
  const boundedEvidence = multilineText(joined, TEXT_LIMITS.Evidence);
  if (boundedEvidence !== undefined) merged.Evidence = boundedEvidence;
  return merged;
}

/** The texts of a rule, not of a detection: the same on every host. */
export const SHARED_TEXT_FIELDS = ['PluginName', 'PluginFamily', 'Description', 'Solution'] as const;

/**
 * Merges findings by VulnID, in first-seen order, holding each rule's texts once, in memory (one
 * Nessus host's findings); a whole file's go through SpooledFindingMerger (spool.ts), which yields the same.
 */
export class FindingMerger {
  private readonly byId = new Map<string, Partial<Finding>>();
  /** One copy of each rule text: the findings held share it (a rule's texts repeat on every host it is found on). */
  private readonly texts = new Map<string, string>();

  private shared(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const known = this.texts.get(value);
    if (known !== undefined) return known;
    this.texts.set(value, value);
    return value;
  }

  add(finding: Partial<Finding>): void {
    for (const field of SHARED_TEXT_FIELDS)
      if (finding[field] !== undefined) finding[field] = this.shared(finding[field]);
    const id = finding.VulnID as string;
    const existing = this.byId.get(id);
    this.byId.set(id, existing === undefined ? finding : mergeFindings(existing, finding));
  }

  get size(): number {
    return this.byId.size;
  }

  /** The merged findings; the merger is empty afterwards. */
  drain(): Partial<Finding>[] {
    const findings = [...this.byId.values()];
    this.byId.clear();
    this.texts.clear();
    return findings;
  }
}

/** `critical=15,high=30,…` over the defaults; throws with a one-line reason on a bad entry. */
export function parseDueDays(text: string | undefined, defaults: DueDays = DEFAULT_DUE_DAYS): DueDays {
  const days: DueDays = { ...defaults };
  if (text === undefined || text.trim() === '') return days;
  for (const entry of text.split(',')) {
    const match = /^\s*(critical|high|medium|low|info)\s*=\s*(\d{1,4})\s*$/i.exec(entry);
    if (!match)
      throw new Error(`--due-days: "${entry.slice(0, 40)}" is not severity=days (critical, high, medium, low, info)`);
    days[(match[1] as string).toUpperCase() as RankedSeverity] = Number(match[2]);
  }
  return days;
}
