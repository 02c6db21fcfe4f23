/**
 * The org summary (docs/finding-lifecycle.md, "The org summary"): one item per org, kept exact by deltas. Every
 * finding contributes a few counters, a pure function of the finding alone (`contributions`); a change's delta is
 * its new image's contributions minus its old image's. The stored item is the sum over the org's findings, so it
 * equals a recount by construction; the figures that depend on the time of the read (an expired acceptance is NEW,
 * overdue, ages, windows) are computed at read time from buckets keyed by day or expiry (`readSummary`), so no
 * background job and no scan of the org is needed. Item size is bounded by the number of distinct days, not by the
 * number of findings; window buckets of days no window reaches any more are removed when the consumer writes
 * (`prunableCounters`).
 *
 * Counter names are short (the item holds one per bucket):
 * - `c<status><sev><wf>`  findings by status × severity × stored workflow (NEW, ACKNOWLEDGED, FALSE_POSITIVE);
 * - `a<status><sev><day>_<expiry ms>`  RISK_ACCEPTED findings by their acceptance's end (NEW from then on, at read);
 * - `o<sev><day>`  OPEN findings by FirstSeen day (the oldest open finding's age);
 * - `d<sev><day>`  OPEN findings that are NEW or ACKNOWLEDGED as stored, by FirstSeen day (overdue);
 * - `f<sev><day>`, `t<sev><day>`  FIXED findings by FixedAt day, and their summed FixedAt − FirstSeen in ms (MTTR);
 * - `r<sev><day>`  findings by their latest ReopenedAt day.
 * Statuses are O/F, severities C/H/M/L/I/U, workflows N/A/F, days are whole days since 1970-01-01 (UTC).
 */
import { statusOf, type FindingStatus, type StoredFinding } from './lifecycle';
import { SEVERITIES, type Severity } from './severity';
import { daysOf, type SlaPolicy } from './sla';
import { WORKFLOW_STATES, type WorkflowState } from './triage';

const DAY_MS = 24 * 60 * 60 * 1000;
export const SUMMARY_WINDOWS = [30, 90] as const;

const STATUS_CODE: Record<FindingStatus, string> = { OPEN: 'O', FIXED: 'F' };
const SEVERITY_CODE: Record<Severity, string> = {
  CRITICAL: 'C',
  HIGH: 'H',
  MEDIUM: 'M',
  LOW: 'L',
  INFO: 'I',
  UNKNOWN: 'U',
};
const WORKFLOW_CODE: Record<Exclude<WorkflowState, 'RISK_ACCEPTED'>, string> = {
  NEW: 'N',
  ACKNOWLEDGED: 'A',
  FALSE_POSITIVE: 'F',
};
const invert = <T extends string>(codes: Record<T, string>): Map<string, T> =>
  new Map(Object.entries(codes).map(([name, code]) => [code as string, name as T]));
const STATUS_BY_CODE = invert(STATUS_CODE);
const SEVERITY_BY_CODE = invert(SEVERITY_CODE);
const WORKFLOW_BY_CODE = invert(WORKFLOW_CODE);

/** Whole UTC days since 1970-01-01 of an ISO 8601 instant. */
export const dayOf = (instant: string): number => Math.floor(Date.parse(instant) / DAY_MS);
const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** A stored severity this code does not know (none is written today) counts as UNKNOWN. */
export const severityOf = (finding: Pick<StoredFinding, 'Severity'>): Severity =>
  (SEVERITIES as readonly string[]).includes(finding.Severity as string) ? (finding.Severity as Severity) : 'UNKNOWN';

export type Counters = Record<string, number>;

function add(counters: Counters, key: string, value: number): void {
  const sum = (counters[key] ?? 0) + value;
  if (sum === 0) delete counters[key];
  else counters[key] = sum;
}

/** What one finding adds to its org's summary item (a pure function of the finding: no clock). */
export function contributions(finding: StoredFinding): Counters {
  const counters: Counters = {};
  const status = statusOf(finding);
  const severity = SEVERITY_CODE[severityOf(finding)];
  const workflow = finding.Workflow ?? 'NEW';
  const firstSeenDay = dayOf(finding.FirstSeen);
  if (workflow === 'RISK_ACCEPTED') {
    // An acceptance without an expiry reads as NEW at once (triage.ts effectiveWorkflow): expiry 0.
    const expiry = finding.AcceptedUntil === undefined ? 0 : Date.parse(finding.AcceptedUntil);
    add(counters, `a${STATUS_CODE[status]}${severity}${firstSeenDay}_${expiry}`, 1);
  } else {
    add(counters, `c${STATUS_CODE[status]}${severity}${WORKFLOW_CODE[workflow]}`, 1);
  }
  if (status === 'OPEN') {
    add(counters, `o${severity}${firstSeenDay}`, 1);
    if (workflow === 'NEW' || workflow === 'ACKNOWLEDGED') add(counters, `d${severity}${firstSeenDay}`, 1);
  } else if (finding.FixedAt !== undefined) {
    const fixedDay = dayOf(finding.FixedAt);
    add(counters, `f${severity}${fixedDay}`, 1);
    add(counters, `t${severity}${fixedDay}`, Date.parse(finding.FixedAt) - Date.parse(finding.FirstSeen));
  }
  if (finding.ReopenedAt !== undefined) add(counters, `r${severity}${dayOf(finding.ReopenedAt)}`, 1);
  return counters;
}

/** The delta of one change: what the new image contributes minus what the old one did (absent image: nothing). */
export function changeDelta(before: StoredFinding | undefined, after: StoredFinding | undefined): Counters {
  const delta: Counters = {};
  if (before) for (const [key, value] of Object.entries(contributions(before))) add(delta, key, -value);
  if (after) for (const [key, value] of Object.entries(contributions(after))) add(delta, key, value);
  return delta;
}

/** Adds `more` into `into` (zeros vanish). */
export function addCounters(into: Counters, more: Counters): Counters {
  for (const [key, value] of Object.entries(more)) add(into, key, value);
  return into;
}

/** Whether an attribute of a summary item is a counter (the others: Org, Seq, Changed). */
export const isCounter = (name: string) => /^[caodftr][OFCHMLIU]/.test(name);

type PerSeverity<T> = Record<Severity, T>;
const perSeverity = <T>(make: () => T): PerSeverity<T> =>
  Object.fromEntries(SEVERITIES.map((severity) => [severity, make()])) as PerSeverity<T>;

export interface WindowFigures {
  /** FIXED findings whose FixedAt falls in the window, per severity. */
  fixed: PerSeverity<number>;
  /** Mean time to remediate, in hours (FixedAt − FirstSeen, averaged), per severity; null without fixes. */
  mttrHours: PerSeverity<number | null>;
  /** Findings whose latest reopening falls in the window, per severity and in all. */
  reopened: PerSeverity<number>;
  reopenedTotal: number;
}

export interface OrgSummary {
  org: string;
  /** The instant the figures are computed for. */
  asOf: string;
  /** When a change last moved the summary (null: never). */
  lastChanged: string | null;
  counts: Record<FindingStatus, PerSeverity<Record<WorkflowState, number>>>;
  /** OPEN, NEW or ACKNOWLEDGED (expired acceptances included) and past their due day, per severity. */
  overdue: PerSeverity<number>;
  /** Whole days since the oldest OPEN finding's FirstSeen day, per severity; null without open findings. */
  oldestOpenDays: PerSeverity<number | null>;
  /** The org's policy as it applied: days by severity, UNKNOWN's none. */
  slaDays: Record<Severity, number | null>;
  windows: Record<`last${(typeof SUMMARY_WINDOWS)[number]}Days`, WindowFigures>;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * The figures of a summary item at `now` under `policy`. Day-granular where a bucket is a day: a finding is overdue
 * from the UTC day after its due day (FirstSeen's UTC day + the severity's days), a window of N days is today and
 * the N − 1 UTC days before it. An acceptance moves to NEW at its exact expiry.
 */
export function readSummary(org: string, item: Record<string, unknown>, now: Date, policy: SlaPolicy): OrgSummary {
  const today = Math.floor(now.getTime() / DAY_MS);
  const counts = {
    OPEN: perSeverity(
      () => Object.fromEntries(WORKFLOW_STATES.map((state) => [state, 0])) as Record<WorkflowState, number>,
    ),
    FIXED: perSeverity(
      () => Object.fromEntries(WORKFLOW_STATES.map((state) => [state, 0])) as Record<WorkflowState, number>,
    ),
  };
  const overdue = perSeverity(() => 0);
  const oldestDay = perSeverity<number | null>(() => null);
  const fixes = SUMMARY_WINDOWS.map(() => ({ count: perSeverity(() => 0), ms: perSeverity(() => 0) }));
  const reopens = SUMMARY_WINDOWS.map(() => perSeverity(() => 0));
  const isOverdue = (severity: Severity, day: number) => {
    const days = daysOf(policy, severity);
    return days !== null && day + days < today;
  };
  for (const [name, raw] of Object.entries(item)) {
    if (!isCounter(name) || typeof raw !== 'number' || raw === 0) continue;
    const value = raw;
    const kind = name[0];
    if (kind === 'c') {
      const status = STATUS_BY_CODE.get(name[1] ?? '');
      const severity = SEVERITY_BY_CODE.get(name[2] ?? '');
      const workflow = WORKFLOW_BY_CODE.get(name[3] ?? '');
      if (status && severity && workflow) counts[status][severity][workflow] += value;
      continue;
    }
    if (kind === 'a') {
      const match = /^a([OF])([CHMLIU])(-?\d+)_(\d+)$/.exec(name);
      const status = STATUS_BY_CODE.get(match?.[1] ?? '');
      const severity = SEVERITY_BY_CODE.get(match?.[2] ?? '');
      if (!match || !status || !severity) continue;
      const expired = Number(match[4]) <= now.getTime();
      counts[status][severity][expired ? 'NEW' : 'RISK_ACCEPTED'] += value;
      if (status === 'OPEN' && expired && isOverdue(severity, Number(match[3]))) overdue[severity] += value;
      continue;
    }
    const match = /^([odftr])([CHMLIU])(-?\d+)$/.exec(name);
    const severity = SEVERITY_BY_CODE.get(match?.[2] ?? '');
    if (!match || !severity) continue;
    const day = Number(match[3]);
    if (kind === 'o') {
      const oldest = oldestDay[severity];
      if (value > 0 && (oldest === null || day < oldest)) oldestDay[severity] = day;
    } else if (kind === 'd') {
      if (isOverdue(severity, day)) overdue[severity] += value;
    } else {
      SUMMARY_WINDOWS.forEach((window, index) => {
        if (day <= today - window || day > today) return;
        if (kind === 'f') (fixes[index] as (typeof fixes)[number]).count[severity] += value;
        else if (kind === 't') (fixes[index] as (typeof fixes)[number]).ms[severity] += value;
        else (reopens[index] as PerSeverity<number>)[severity] += value;
      });
    }
  }
  const windows = Object.fromEntries(
    SUMMARY_WINDOWS.map((window, index) => {
      const fixed = fixes[index] as (typeof fixes)[number];
      const reopened = reopens[index] as PerSeverity<number>;
      const figures: WindowFigures = {
        fixed: fixed.count,
        mttrHours: perSeverity<number | null>(() => null),
        reopened,
        reopenedTotal: SEVERITIES.reduce((sum, severity) => sum + reopened[severity], 0),
      };
      for (const severity of SEVERITIES) {
        const count = fixed.count[severity];
        figures.mttrHours[severity] = count > 0 ? round2(fixed.ms[severity] / count / 3_600_000) : null;
      }
      return [`last${window}Days`, figures];
    }),
  ) as OrgSummary['windows'];
  const oldestOpenDays = perSeverity<number | null>(() => null);
  for (const severity of SEVERITIES) {
    const day = oldestDay[severity];
    oldestOpenDays[severity] = day === null ? null : today - day;
  }
  const changed = item.Changed;
  return {
    org,
    asOf: now.toISOString(),
    lastChanged: typeof changed === 'string' ? changed : null,
    counts,
    overdue,
    oldestOpenDays,
    slaDays: { ...policy, UNKNOWN: null },
    windows,
  };
}

/**
 * Days a window bucket is kept past the longest window: a bucket of day D is read until D + 89 (a window of 90 days
 * is today and the 89 days before); one more day absorbs a clock that differs by less than a day between the writer
 * and a later reader.
 */
const PRUNE_MARGIN_DAYS = 1;

/**
 * The window buckets no read can use any more (fixes `f`, their durations `t`, reopenings `r` of a day before the
 * longest window, and a margin): the consumer removes them when it writes, so the item stops growing with old days.
 * Removing them changes no figure at `now` or later (readSummary reads those kinds only inside the windows). The
 * other buckets stay: open findings by FirstSeen day and acceptances feed ages, overdue and counts whatever their age.
 */
export function prunableCounters(item: Record<string, unknown>, now: Date): string[] {
  const oldest = Math.floor(now.getTime() / DAY_MS) - Math.max(...SUMMARY_WINDOWS) - PRUNE_MARGIN_DAYS;
  return Object.keys(item).filter((name) => {
    const match = /^[ftr][CHMLIU](-?\d+)$/.exec(name);
    return match !== null && Number(match[1]) <= oldest;
  });
}

/** The ISO date of a day bucket (for docs and tests). */
export const bucketDate = isoDay;
