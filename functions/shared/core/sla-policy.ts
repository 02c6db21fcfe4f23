/**
 * The org summary's view of an org's SLA policy (core/sla.ts holds the policy: its layout `SLA#<org>` in the authz
 * table, its schema, its defaults): days by every severity, UNKNOWN included, which has no SLA. A finding is due at
 * FirstSeen + days(severity).
 */
import { DEFAULT_SLA_POLICY, type SlaPolicy as StoredSlaPolicy } from './sla';
import type { Severity } from './severity';

export type SlaPolicy = Record<Severity, number | null>;

/** A stored (or default) policy, with UNKNOWN's none. */
export const withUnranked = (policy: StoredSlaPolicy): SlaPolicy => ({ ...policy, UNKNOWN: null });

export const DEFAULT_SLA_DAYS: Readonly<SlaPolicy> = withUnranked(DEFAULT_SLA_POLICY);
