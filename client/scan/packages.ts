/**
 * From a package scanner's record (a Trivy vulnerability, a Grype match, an OSV-Scanner package
 * vulnerability) to a finding of our schema: the readers fill a PackageItem (what a package finding
 * always has: an asset, a rule, a package and its version), which becomes the one FindingDraft every
 * reader's record becomes, and draft.ts decides every field (docs/scan-import.md is the table).
 */
import { PACKAGE_LIMITS, type Finding } from '../../functions/shared/core/finding-schema';
import { findingOf, type FindingDraft } from './draft';
import { singleLine, type CvssPair, type MappingOptions } from './mapping';

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

const bounded = (value: string | undefined, max: number) => {
  const line = value === undefined ? '' : singleLine(value, max);
  return line === '' ? undefined : line;
};

const present = (values: (string | undefined)[] | undefined): string[] =>
  (values ?? []).filter((value): value is string => value !== undefined);

/**
 * The draft of one package vulnerability (draft.ts decides every field from it): identity from the
 * asset, the rule and the package's name, installed version and path; the rule and its aliases as
 * CVEs; a title and a solution made up when the scanner gives none.
 */
function packageDraftOf(item: PackageItem): FindingDraft {
  const rule = singleLine(item.rule, PACKAGE_LIMITS.RuleId);
  const packageName = singleLine(item.packageName, PACKAGE_LIMITS.PackageName);
  const packageVersion = singleLine(item.packageVersion, PACKAGE_LIMITS.PackageVersion);
  const packagePath = bounded(item.packagePath, PACKAGE_LIMITS.PackagePath);
  return {
    host: {},
    asset: item.asset,
    ruleId: rule,
    title: bounded(item.title, 512) ?? `${rule} in ${packageName} ${packageVersion}`,
    family: item.family,
    priority: item.severity,
    cves: [rule, ...(item.aliases ?? [])],
    cvss3: item.cvss3,
    cvss4: item.cvss4,
    cvss2: item.cvss2,
    description: item.description,
    solution:
      item.solution ??
      (item.fixedVersion ? `Upgrade ${packageName} to ${singleLine(item.fixedVersion, 256)}.` : undefined),
    packageName,
    packageVersion,
    fixedVersion: item.fixedVersion,
    packagePath,
    cwes: present(item.cwes),
    references: present(item.references),
    epssScore: item.epss,
    knownExploit: item.knownExploit,
    location: [packageName, packageVersion, packagePath ?? ''],
    scannedAt: item.scannedAt,
  };
}

/** The finding for one package vulnerability; validated by the caller with the API's schema. */
export const toPackageFinding = (item: PackageItem, options: MappingOptions): Partial<Finding> =>
  findingOf(packageDraftOf(item), options);

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
