/**
 * An org's SLA policy (issue 13, "SLAs"): days by severity, stored in the authz table as the item
 * `Id = "SLA#<org>"`, `Value = {CRITICAL: 15, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: null}` (null: no SLA), read
 * through the cached grant store. An absent item, or a severity the item does not name, takes the defaults. A
 * finding is due at FirstSeen + days(severity); UNKNOWN severities have no SLA.
 */
import type { Severity } from './severity';

export const SLA_KEY_PREFIX = 'SLA#';
export const slaPolicyKey = (org: string) => `${SLA_KEY_PREFIX}${org}`;

export type SlaPolicy = Record<Severity, number | null>;

export const DEFAULT_SLA_DAYS: Readonly<SlaPolicy> = {
  CRITICAL: 15,
  HIGH: 30,
  MEDIUM: 90,
  LOW: 180,
  INFO: null,
  UNKNOWN: null,
};

const POLICY_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'] as const;

/**
 * The policy from the stored `Value` (undefined: none stored). A severity's days are a whole number from 1 to
 * 3650, or null; anything else stored is a configuration mistake and fails closed to the default for that
 * severity rather than hiding overdue findings.
 */
export function slaPolicy(value: unknown): SlaPolicy {
  const policy: SlaPolicy = { ...DEFAULT_SLA_DAYS };
  if (value === null || typeof value !== 'object') return policy;
  const stored = value as Record<string, unknown>;
  for (const severity of POLICY_SEVERITIES) {
    if (!Object.hasOwn(stored, severity)) continue;
    const days = stored[severity];
    if (days === null) policy[severity] = null;
    else if (typeof days === 'number' && Number.isInteger(days) && days >= 1 && days <= 3650) policy[severity] = days;
  }
  return policy;
}
