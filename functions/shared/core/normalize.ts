import { toIsoDate } from './dates';
import type { Finding } from './finding-schema';
import { deriveSeverity, type Severity } from './severity';

export interface NormalizedFinding extends Finding {
  Severity: Severity;
}

/**
 * Pure normalization of a validated finding: ISO date, canonical asset name, CVE ids once each in
 * the order sent, derived severity (the priority's, else the CVSS band's).
 */
export function normalizeFinding(finding: Finding): NormalizedFinding {
  const dueDate = toIsoDate(finding.DueDate);
  if (dueDate === null) throw new TypeError('normalizeFinding needs a validated finding');
  return {
    ...finding,
    DueDate: dueDate,
    AssetName: finding.AssetName.trim().toLowerCase(),
    ...(finding.Cves === undefined ? {} : { Cves: [...new Set(finding.Cves)] }),
    Severity: deriveSeverity(finding.Priority, finding.CvssScore),
  };
}

export function normalizeFindings(findings: Finding[]): NormalizedFinding[] {
  return findings.map(normalizeFinding);
}
