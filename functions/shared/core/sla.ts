/**
 * SLA policies per org (issue 13): days to fix a finding, by severity, counted from its FirstSeen. The policy
 * is stored in the authz table (`SLA#<org>`, core/authz-table.ts) and read through the grant store's cache;
 * an org without one has exactly the defaults. A finding's due time is computed when it is read, so a changed
 * policy or a changed severity applies from then on; the scanner's own `DueDate` is never touched.
 */
import * as z from 'zod';
import { RANKED_SEVERITIES, type RankedSeverity, type Severity } from './severity';

/** The days of one severity: whole days, 1 to 3650 (ten years), or null for no SLA. */
export const MAX_SLA_DAYS = 3650;
export const SLA_DAYS_MESSAGE = `must be whole days from 1 to ${MAX_SLA_DAYS}, or none for no SLA`;
export const slaDaysSchema = z
  .number({ message: SLA_DAYS_MESSAGE })
  .int(SLA_DAYS_MESSAGE)
  .min(1, SLA_DAYS_MESSAGE)
  .max(MAX_SLA_DAYS, SLA_DAYS_MESSAGE)
  .nullable();

/** A stored policy: every ranked severity, each days or null. UNKNOWN has no SLA (it has no rank). */
export const slaPolicySchema = z.strictObject({
  CRITICAL: slaDaysSchema,
  HIGH: slaDaysSchema,
  MEDIUM: slaDaysSchema,
  LOW: slaDaysSchema,
  INFO: slaDaysSchema,
});
export type SlaPolicy = z.infer<typeof slaPolicySchema>;

/** The policy of an org that has none stored (DefectDojo's defaults, issue 13). */
export const DEFAULT_SLA_POLICY: Readonly<SlaPolicy> = Object.freeze({
  CRITICAL: 15,
  HIGH: 30,
  MEDIUM: 90,
  LOW: 180,
  INFO: null,
});

/** A stored policy is operator-written; one that breaks the schema is a configuration error, never guessed around. */
export class InvalidSlaPolicyError extends Error {
  override name = 'InvalidSlaPolicyError';
}

/** The org's policy from the raw stored value: the defaults when none is stored. */
export function slaPolicyFrom(stored: unknown, org: string): SlaPolicy {
  if (stored === undefined || stored === null) return { ...DEFAULT_SLA_POLICY };
  const parsed = slaPolicySchema.safeParse(stored);
  if (!parsed.success) throw new InvalidSlaPolicyError(`the stored SLA policy of org ${org} is not valid`);
  return parsed.data;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A severity's SLA days under a policy: null for none, and for UNKNOWN (no SLA). */
export const daysOf = (policy: SlaPolicy, severity: Severity | undefined): number | null =>
  severity !== undefined && (RANKED_SEVERITIES as readonly string[]).includes(severity)
    ? policy[severity as RankedSeverity]
    : null;

/** A finding's SLA due time (canonical UTC), or null: no SLA for its severity, or no FirstSeen. */
export function slaDueAt(
  finding: { FirstSeen?: string | undefined; Severity?: Severity | undefined },
  policy: SlaPolicy,
): string | null {
  const days = daysOf(policy, finding.Severity);
  const firstSeen = finding.FirstSeen === undefined ? Number.NaN : Date.parse(finding.FirstSeen);
  if (days === null || Number.isNaN(firstSeen)) return null;
  return new Date(firstSeen + days * DAY_MS).toISOString();
}

/** Whether a finding's due time has passed at `now` (a finding without an SLA is never overdue). */
export function isOverdue(
  finding: { FirstSeen?: string | undefined; Severity?: Severity | undefined },
  policy: SlaPolicy,
  now: Date,
): boolean {
  const due = slaDueAt(finding, policy);
  return due !== null && Date.parse(due) < now.getTime();
}

/**
 * What `overdue=true` asks DynamoDB: per severity with an SLA (among `severities` when the request names some),
 * the FirstSeen before which a finding of it is overdue at `now` (due = FirstSeen + days < now ⇔ FirstSeen <
 * now − days). At most five, so the filter stays bounded. Empty: nothing can be overdue.
 */
export function overdueCutoffs(
  policy: SlaPolicy,
  now: Date,
  severities?: readonly Severity[],
): { severity: RankedSeverity; firstSeenBefore: string }[] {
  return RANKED_SEVERITIES.filter((severity) => severities === undefined || severities.includes(severity)).flatMap(
    (severity) => {
      const days = policy[severity];
      return days === null
        ? []
        : [{ severity, firstSeenBefore: new Date(now.getTime() - days * DAY_MS).toISOString() }];
    },
  );
}

/** The finding as GET answers it: with its SLA due time under the org's policy (null when it has none). */
export function presentSla<T extends { FirstSeen?: string | undefined; Severity?: Severity | undefined }>(
  finding: T,
  policy: SlaPolicy,
): T & { SlaDueAt: string | null } {
  return { ...finding, SlaDueAt: slaDueAt(finding, policy) };
}
