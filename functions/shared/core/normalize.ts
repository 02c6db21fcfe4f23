import { toIsoDate } from './dates';
import type { Finding } from './finding-schema';
import { deriveSeverity, type Severity } from './severity';

export interface NormalizedFinding extends Finding {
  Severity: Severity;
}

/**
 * Pure normalization of a validated finding: ISO date, canonical asset name, CVE ids once each in
 * the order sent (CWE ids and reference URLs too), derived severity (the priority's, else the CVSS band's).
 */
export function normalizeFinding(finding: Finding): NormalizedFinding {
  const dueDate = toIsoDate(finding.DueDate);
  if (dueDate === null) throw new TypeError('normalizeFinding needs a validated finding');
  return {
    ...finding,
    DueDate: dueDate,
    AssetName: finding.AssetName.trim().toLowerCase(),
    ...(finding.Cves === undefined ? {} : { Cves: [...new Set(finding.Cves)] }),
    ...(finding.Cwes === undefined ? {} : { Cwes: [...new Set(finding.Cwes)] }),
    ...(finding.References === undefined ? {} : { References: [...new Set(finding.References)] }),
    Severity: deriveSeverity(finding.Priority, finding.CvssScore),
  };
}

export function normalizeFindings(findings: Finding[]): NormalizedFinding[] {
  return findings.map(normalizeFinding);
}

/**
 * One finding per Org + VulnID (the table's key), the last occurrence winning, in the order of those
 * last occurrences. A batch that repeats a VulnID is written once per finding, so its counts are
 * true (one created or updated, not several) and its outcome does not depend on which of
 * concurrent writes lands last.
 */
export function lastPerKey<T extends Pick<Finding, 'Org' | 'VulnID'>>(findings: T[]): T[] {
  const byKey = new Map<string, T>();
  for (const finding of findings) {
    const key = JSON.stringify([finding.Org, finding.VulnID]);
    // Deleting first moves a repeated key to its last position.
    byKey.delete(key);
    byKey.set(key, finding);
  }
  return [...byKey.values()];
}
