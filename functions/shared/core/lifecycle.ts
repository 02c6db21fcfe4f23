/**
 * The lifecycle of a stored finding (docs/finding-lifecycle.md): what a report does to it, and what a
 * completed scan run closes. Pure rules; the repository turns each decision into one conditional
 * write, so a decision taken on a stale read is refused by DynamoDB and taken again.
 *
 * The scan's own time decides: a report older than what is stored is `stale` and changes nothing,
 * so a late, older scan can neither overwrite, reopen nor close what a newer scan decided.
 */
import type { ChangeActor } from './change-actor';
import { OPTIONAL_FINDING_FIELDS } from './finding-schema';
import type { NormalizedFinding } from './normalize';
import type { TriageFields } from './triage';

export const FINDING_STATUSES = ['OPEN', 'FIXED'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/**
 * A finding as stored. Findings stored before scan runs existed have no Status: they count as OPEN.
 * The triage fields (core/triage.ts) are people's: no scan writes them, except the reopening of an
 * ACKNOWLEDGED finding (back to NEW).
 */
export interface StoredFinding extends NormalizedFinding, TriageFields {
  FirstSeen: string;
  LastSeen: string;
  Status?: FindingStatus;
  FixedAt?: string;
  FixedByRunId?: string;
  ReopenedAt?: string;
  TimesReopened?: number;
  LastRunId?: string;
}

export const statusOf = (finding: Pick<StoredFinding, 'Status'>): FindingStatus => finding.Status ?? 'OPEN';

/** The scan a report belongs to: its run (if any) and the time the scan saw the findings. */
export interface ScanContext {
  /** ISO 8601 instant: the run's `scannedAt`, else the time the request arrived. */
  scannedAt: string;
  runId?: string | undefined;
  /** Who sent the report and through which request: written on the finding (`By`) with the change (change-actor.ts). */
  actor?: ChangeActor | undefined;
}

export const WRITE_OUTCOMES = ['created', 'updated', 'unchanged', 'stale'] as const;
export type WriteOutcome = (typeof WRITE_OUTCOMES)[number];

export interface WriteDecision {
  outcome: WriteOutcome;
  /** A FIXED finding seen again: it becomes OPEN, ReopenedAt set, TimesReopened incremented. */
  reopen: boolean;
  /** Whether a write is needed at all (an unchanged finding already attributed to this run needs none). */
  write: boolean;
}

const instant = (iso: string) => Date.parse(iso);

/** The fields a report sets (everything but the key), compared to tell `unchanged` from `updated`. */
const REPORTED_FIELDS = (finding: NormalizedFinding) =>
  Object.keys(finding).filter((name) => name !== 'Org' && name !== 'VulnID');

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether the stored finding already carries exactly what the report says (optional fields included). */
export function sameDetail(stored: StoredFinding, incoming: NormalizedFinding): boolean {
  const reported = REPORTED_FIELDS(incoming);
  if (
    !reported.every((name) => sameValue(stored[name as keyof StoredFinding], incoming[name as keyof NormalizedFinding]))
  )
    return false;
  // An optional field the report no longer carries is removed: that is a change.
  return OPTIONAL_FINDING_FIELDS.every((name) => name in incoming || stored[name] === undefined);
}

/**
 * What a report does to a finding:
 * - nothing stored: `created` (OPEN);
 * - stored `LastSeen` newer than the scan, or FIXED by a newer scan: `stale`, nothing written;
 * - otherwise the report applies: a FIXED finding reopens; an equal time with nothing different is `unchanged`.
 */
export function decideWrite(
  stored: StoredFinding | undefined,
  incoming: NormalizedFinding,
  scan: ScanContext,
): WriteDecision {
  if (stored === undefined) return { outcome: 'created', reopen: false, write: true };
  const scannedAt = instant(scan.scannedAt);
  const fixed = statusOf(stored) === 'FIXED';
  if (instant(stored.LastSeen) > scannedAt) return { outcome: 'stale', reopen: false, write: false };
  if (fixed && stored.FixedAt !== undefined && instant(stored.FixedAt) > scannedAt)
    return { outcome: 'stale', reopen: false, write: false };
  if (fixed) return { outcome: 'updated', reopen: true, write: true };
  if (instant(stored.LastSeen) === scannedAt && sameDetail(stored, incoming)) {
    return { outcome: 'unchanged', reopen: false, write: scan.runId !== undefined && stored.LastRunId !== scan.runId };
  }
  return { outcome: 'updated', reopen: false, write: true };
}

/** What a completed run covers: its org and scanner, and the assets it reported (or listed in its scope). */
export interface RunScope {
  runId: string;
  org: string;
  scanner: string;
  scannedAt: string;
  assets: ReadonlySet<string>;
  /** Who the close is written as (`By`): the run, and its opener's certificate. */
  actor?: ChangeActor | undefined;
}

/**
 * Whether completing the run closes this finding: same org and scanner, on an asset the run covered,
 * still OPEN, and last seen before the run's scan (so not seen by it, and not seen by a newer scan).
 * Findings of other scanners, of assets the run did not touch, and findings without a Scanner never close.
 */
export function shouldClose(
  finding: Pick<StoredFinding, 'Org' | 'Scanner' | 'AssetName' | 'Status' | 'LastSeen'>,
  scope: RunScope,
): boolean {
  return (
    finding.Org === scope.org &&
    finding.Scanner === scope.scanner &&
    scope.assets.has(finding.AssetName) &&
    statusOf(finding) === 'OPEN' &&
    instant(finding.LastSeen) < instant(scope.scannedAt)
  );
}

/** Per-batch counts a POST answer and a run's receipt carry. */
export interface WriteCounts {
  created: number;
  updated: number;
  unchanged: number;
  stale: number;
  reopened: number;
}

export const emptyCounts = (): WriteCounts => ({ created: 0, updated: 0, unchanged: 0, stale: 0, reopened: 0 });
