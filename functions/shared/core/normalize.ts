import { toIsoDate } from './dates';
import type { Finding } from './finding-schema';
import { severityFromPriority, type Severity } from './severity';

export interface NormalizedFinding extends Finding {
  Severity: Severity;
}

/** Pure normalization of a validated finding: ISO date, canonical asset name, derived severity. */
export function normalizeFinding(finding: Finding): NormalizedFinding {
  const dueDate = toIsoDate(finding.DueDate);
  if (dueDate === null) throw new TypeError('normalizeFinding needs a validated finding');
  return {
    ...finding,
    DueDate: dueDate,
    AssetName: finding.AssetName.trim().toLowerCase(),
    Severity: severityFromPriority(finding.Priority),
  };
}

export function normalizeFindings(findings: Finding[]): NormalizedFinding[] {
  return findings.map(normalizeFinding);
}
