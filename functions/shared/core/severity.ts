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
