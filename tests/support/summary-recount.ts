/**
 * A full recount of an org's summary figures from its findings, written from the definitions in
 * docs/finding-lifecycle.md ("The org summary") without the summary's buckets: what GET /vuln/summary must always
 * equal. Used by the core's randomized test (tests/unit/org-summary.test.ts) and on the running stack
 * (tests/integration/finding-events-stack.test.ts).
 */
import type { OrgSummary } from '../../functions/shared/core/org-summary';
import { statusOf } from '../../functions/shared/core/lifecycle';
import { SEVERITIES, type Severity } from '../../functions/shared/core/severity';
import { daysOf, type SlaPolicy } from '../../functions/shared/core/sla';
import { effectiveWorkflow, WORKFLOW_STATES, type WorkflowState } from '../../functions/shared/core/triage';
import type { FindingImage } from '../../functions/shared/core/finding-history';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The summary's figures recounted from the findings themselves, written from the definitions in
 * docs/finding-lifecycle.md without the summary's buckets: what the summary must always equal.
 */
export function recount(findings: FindingImage[], now: Date, policy: SlaPolicy) {
  const today = Math.floor(now.getTime() / DAY_MS);
  const zeroStates = () =>
    Object.fromEntries(WORKFLOW_STATES.map((state) => [state, 0])) as Record<WorkflowState, number>;
  const perSeverity = <T>(make: () => T) =>
    Object.fromEntries(SEVERITIES.map((severity) => [severity, make()])) as Record<Severity, T>;
  const counts = { OPEN: perSeverity(zeroStates), FIXED: perSeverity(zeroStates) };
  const overdue = perSeverity(() => 0);
  const oldestOpenDays = perSeverity<number | null>(() => null);
  const windows: Record<string, unknown> = {};
  for (const f of findings) {
    const severity = f.Severity as Severity;
    const workflow = effectiveWorkflow(f, now);
    counts[statusOf(f)][severity][workflow] += 1;
    if (statusOf(f) !== 'OPEN') continue;
    const firstSeenDay = Math.floor(Date.parse(f.FirstSeen) / DAY_MS);
    const age = today - firstSeenDay;
    const oldest = oldestOpenDays[severity];
    if (oldest === null || age > oldest) oldestOpenDays[severity] = age;
    const days = daysOf(policy, severity);
    if ((workflow === 'NEW' || workflow === 'ACKNOWLEDGED') && days !== null && today > firstSeenDay + days)
      overdue[severity] += 1;
  }
  for (const window of [30, 90]) {
    const inWindow = (instant: string | undefined) => {
      if (instant === undefined) return false;
      const day = Math.floor(Date.parse(instant) / DAY_MS);
      return day > today - window && day <= today;
    };
    const fixed = perSeverity(() => 0);
    const sums = perSeverity(() => 0);
    const reopened = perSeverity(() => 0);
    for (const f of findings) {
      const severity = f.Severity as Severity;
      if (statusOf(f) === 'FIXED' && inWindow(f.FixedAt)) {
        fixed[severity] += 1;
        sums[severity] += Date.parse(f.FixedAt as string) - Date.parse(f.FirstSeen);
      }
      if (inWindow(f.ReopenedAt)) reopened[severity] += 1;
    }
    windows[`last${window}Days`] = {
      fixed,
      mttrHours: perSeverity<number | null>(() => null),
      reopened,
      reopenedTotal: Object.values(reopened).reduce((a, b) => a + b, 0),
    };
    const figures = windows[`last${window}Days`] as { mttrHours: Record<Severity, number | null> };
    for (const severity of SEVERITIES)
      figures.mttrHours[severity] =
        fixed[severity] > 0 ? Math.round((sums[severity] / fixed[severity] / 3_600_000) * 100) / 100 : null;
  }
  return { counts, overdue, oldestOpenDays, windows };
}

export const figures = (summary: OrgSummary) => {
  const { counts, overdue, oldestOpenDays, windows } = summary;
  return { counts, overdue, oldestOpenDays, windows };
};
