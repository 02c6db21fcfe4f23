export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];

const BY_PRIORITY: Record<string, Severity> = {
  p1: 'CRITICAL',
  p2: 'HIGH',
  p3: 'MEDIUM',
  p4: 'LOW',
  p5: 'INFO',
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  moderate: 'MEDIUM',
  low: 'LOW',
  info: 'INFO',
  informational: 'INFO',
  none: 'INFO',
  // Nessus severity numbers: 4 critical … 0 informational.
  '4': 'CRITICAL',
  '3': 'HIGH',
  '2': 'MEDIUM',
  '1': 'LOW',
  '0': 'INFO',
};

/** Severity from a scanner's priority when it is a known form, else UNKNOWN. */
export function severityFromPriority(priority: string): Severity {
  const key = priority.trim().toLowerCase();
  // Own keys only: a priority of "constructor" or "__proto__" is just unknown.
  return Object.hasOwn(BY_PRIORITY, key) ? (BY_PRIORITY[key] as Severity) : 'UNKNOWN';
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/**
 * The CVSS qualitative rating bands (v3.1 specification, section 5 "Qualitative Severity Rating
 * Scale"; the same bands in v4.0): 9.0+ CRITICAL, 7.0+ HIGH, 4.0+ MEDIUM, 0.1+ LOW, 0.0 none.
 */
export function severityFromCvss(score: number): Severity {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score >= 0.1) return 'LOW';
  return 'INFO';
}

/** The scanner's priority decides when it is a known form; else a CVSS score's band; else UNKNOWN. */
export function deriveSeverity(priority: string, cvssScore: number | undefined): Severity {
  const fromPriority = severityFromPriority(priority);
  return fromPriority === 'UNKNOWN' && cvssScore !== undefined ? severityFromCvss(cvssScore) : fromPriority;
}

/** Ranked severities, most severe first, for `minSeverity`; UNKNOWN has no rank and never matches. */
export const RANKED_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'] as const satisfies readonly Severity[];
export type RankedSeverity = (typeof RANKED_SEVERITIES)[number];

/** The severities at least as severe as `minimum`. */
export function severitiesAtLeast(minimum: RankedSeverity): RankedSeverity[] {
  return RANKED_SEVERITIES.slice(0, RANKED_SEVERITIES.indexOf(minimum) + 1);
}
