/**
 * From a package scanner's record (a Trivy vulnerability, a Grype match, an OSV-Scanner package
 * vulnerability) to a finding of our schema. Format-neutral like mapping.ts: the readers fill a
 * PackageItem, this module decides every field (docs/scan-import.md is the table).
 */
import {
  CWE_PATTERN,
  MAX_CWES,
  MAX_REFERENCE_LENGTH,
  MAX_REFERENCES,
  PACKAGE_LIMITS,
  TEXT_LIMITS,
  type Finding,
} from '../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../functions/shared/core/severity';
import { findingIdentity } from './identity';
import {
  cvesOf,
  cvssOf,
  dueDateOf,
  multilineText,
  priorityOf,
  singleLine,
  type CvssPair,
  type MappingOptions,
} from './mapping';

/** What a package reader reads of one vulnerability in one package of one asset. */
export interface PackageItem {
  /** The image, directory, repository, lockfile or workload scanned. */
  asset: string;
  /** The scanner's id of the vulnerability: a CVE, GHSA, OSV or distribution id. */
  rule: string;
  /** Other ids of the same vulnerability (a GHSA's CVE): their CVE ids join `Cves`. */
  aliases?: string[] | undefined;
  title?: string | undefined;
  /** The scanner's severity word (Critical … Negligible, Unknown), or '' when it gives none. */
  severity: string;
  packageName: string;
  packageVersion: string;
  fixedVersion?: string | undefined;
  /** Where the package is inside the asset: a lockfile, a jar, a dpkg status file. */
  packagePath?: string | undefined;
  /** The package's ecosystem or type (npm, deb, jar): the finding's PluginFamily. */
  family?: string | undefined;
  cwes?: (string | undefined)[] | undefined;
  references?: (string | undefined)[] | undefined;
  cvss3?: CvssPair | undefined;
  cvss4?: CvssPair | undefined;
  cvss2?: CvssPair | undefined;
  epss?: number | undefined;
  knownExploit?: boolean | undefined;
  description?: string | undefined;
  solution?: string | undefined;
  scannedAt?: Date | undefined;
}

/** Reference URLs the finding keeps: http(s) only, each once, each ≤ 2048, at most 20 and about 8 KB in all. */
export const REFERENCES_BUDGET = 8 * 1024;

export function referencesOf(urls: (string | undefined)[]): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (const raw of urls) {
    const url = raw?.trim();
    if (url === undefined || url.length > MAX_REFERENCE_LENGTH || !/^https?:\/\/[\x21-\x7e]+$/i.test(url)) continue;
    if (kept.includes(url)) continue;
    try {
      if (new URL(url).hostname === '') continue;
    } catch {
      continue;
    }
    if (kept.length >= MAX_REFERENCES || bytes + url.length > REFERENCES_BUDGET) break;
    kept.push(url);
    bytes += url.length + 3;
  }
  return kept;
}

/** CWE ids as `CWE-<n>`, each once (`CWE-79`, `cwe-79` and `79` are one), at most 50. */
export function cwesOf(values: (string | number | undefined)[]): string[] {
  const ids = values
    .map((value) =>
      String(value ?? '')
        .trim()
        .toUpperCase(),
    )
    .map((value) => (/^\d+$/.test(value) ? `CWE-${value}` : value))
    .filter((value) => CWE_PATTERN.test(value));
  return [...new Set(ids)].slice(0, MAX_CWES);
}

const bounded = (value: string | undefined, max: number) => {
  const line = value === undefined ? '' : singleLine(value, max);
  return line === '' ? undefined : line;
};

const epssOf = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;

/** The finding for one package vulnerability; validated by the caller with the API's schema. */
export function toPackageFinding(item: PackageItem, options: MappingOptions): Partial<Finding> {
  const asset = singleLine(item.asset, 255);
  const rule = singleLine(item.rule, PACKAGE_LIMITS.RuleId);
  const packageName = singleLine(item.packageName, PACKAGE_LIMITS.PackageName);
  const packageVersion = singleLine(item.packageVersion, PACKAGE_LIMITS.PackageVersion);
  const packagePath = bounded(item.packagePath, PACKAGE_LIMITS.PackagePath);
  const cvss = cvssOf(item);
  const priority = item.severity.trim() === '' ? 'Unknown' : priorityOf(item.severity);
  const severity = deriveSeverity(priority, cvss.CvssScore);
  const days = options.dueDays[severity === 'UNKNOWN' ? 'MEDIUM' : severity];
  const cves = cvesOf([rule, ...(item.aliases ?? [])]);
  const cwes = cwesOf(item.cwes ?? []);
  const references = referencesOf(item.references ?? []);
  const title = bounded(item.title, 512);
  const finding = {
    VulnID: findingIdentity({
      scanner: options.scanner,
      asset,
      rule,
      location: [packageName, packageVersion, packagePath ?? ''],
    }),
    Org: options.org,
    AssetName: asset,
    DueDate: dueDateOf(item.scannedAt ?? options.now, days),
    RuleId: rule,
    PluginName: singleLine(title ?? `${rule} in ${packageName} ${packageVersion}`, 512),
    Priority: priority,
    ...(cves.length > 0 ? { Cves: cves } : {}),
    ...cvss,
    PluginFamily: bounded(item.family, 128),
    Description: multilineText(item.description, TEXT_LIMITS.Description),
    Solution: multilineText(
      item.solution ??
        (item.fixedVersion ? `Upgrade ${packageName} to ${singleLine(item.fixedVersion, 256)}.` : undefined),
      TEXT_LIMITS.Solution,
    ),
    Scanner: options.scanner,
    PackageName: packageName,
    PackageVersion: packageVersion,
    FixedVersion: bounded(item.fixedVersion, PACKAGE_LIMITS.FixedVersion),
    PackagePath: packagePath,
    ...(cwes.length > 0 ? { Cwes: cwes } : {}),
    ...(references.length > 0 ? { References: references } : {}),
    EpssScore: epssOf(item.epss),
    KnownExploit: item.knownExploit,
  };
  return Object.fromEntries(Object.entries(finding).filter(([, value]) => value !== undefined)) as Partial<Finding>;
}

/** The text of a JSON value when it is a non-empty string, else undefined (readers meet `null`, numbers, objects). */
export const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** A number, or a number written as text, else undefined. */
export const numberOf = (value: unknown): number | undefined => {
  const number =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
};

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** A date from an ISO 8601 text, else undefined. */
export const dateOf = (value: unknown): Date | undefined => {
  const parsed = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(parsed) ? new Date(parsed) : undefined;
};
