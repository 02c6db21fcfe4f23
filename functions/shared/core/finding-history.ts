/**
 * The history of a finding (docs/finding-lifecycle.md, "History"): one entry per change, derived from the change's
 * old and new image (a DynamoDB Stream record, NEW_AND_OLD_IMAGES) by pure rules. An entry is keyed by the finding
 * and the record's sequence number, so a redelivered record writes the very same item.
 */
import { ACTOR_ATTRIBUTE, actorFromStored, actorFromTriagedBy, type ChangeActor } from './change-actor';
import { statusOf, type FindingStatus, type StoredFinding } from './lifecycle';
import type { WorkflowState } from './triage';

/** A finding as a stream image carries it: everything stored, the latest writer (`By`) and the triager included. */
export type FindingImage = StoredFinding & { By?: unknown; TriagedBy?: unknown };

/** One change of one finding, as the stream consumer hands it to the core (images already plain objects). */
export interface FindingChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The stream record's sequence number (digits). */
  sequenceNumber: string;
  /** When DynamoDB recorded the change (ApproximateCreationDateTime, epoch seconds). */
  recordedAt: number;
  oldImage: FindingImage | undefined;
  newImage: FindingImage | undefined;
}

export const HISTORY_KINDS = ['created', 'updated', 'seen', 'fixed', 'reopened', 'triaged', 'removed'] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

/** Entries are kept at least this long (issue 13); the stack's HistoryRetentionDays may only be longer. */
export const MIN_HISTORY_RETENTION_DAYS = 90;
export const DEFAULT_HISTORY_RETENTION_DAYS = 400;

/** Sequence numbers are at most 40 digits ("StreamRecord", Amazon DynamoDB Streams API Reference): padded, they sort as text. */
export const SEQUENCE_DIGITS = 40;

export function paddedSequence(sequenceNumber: string): string {
  if (!/^\d{1,40}$/.test(sequenceNumber)) throw new Error('a stream sequence number is 1 to 40 digits');
  return sequenceNumber.padStart(SEQUENCE_DIGITS, '0');
}

/** The history table's partition key of a finding (an org never contains '#': finding-schema.ts SAFE_ID). */
export const historyKey = (org: string, vulnId: string) => `${org}#${vulnId}`;

/** What the people own and what only records a write: neither is a field "changed by a scan". */
const NOT_SCAN_FIELDS: ReadonlySet<string> = new Set([
  'Org',
  'VulnID',
  'FirstSeen',
  'LastSeen',
  'Status',
  'FixedAt',
  'FixedByRunId',
  'ReopenedAt',
  'TimesReopened',
  'LastRunId',
  'Version',
  ACTOR_ATTRIBUTE,
  'Workflow',
  'Note',
  'Justification',
  'AcceptedUntil',
  'TriagedAt',
  'TriagedBy',
]);

/** The triage fields an entry names when they changed. */
const TRIAGE_FIELDS = ['Workflow', 'Note', 'Justification', 'AcceptedUntil'] as const;

/** A history entry as stored and as GET /vuln/history answers it (without its keys and expiry). */
export interface HistoryEntry {
  Finding: string;
  Seq: string;
  Org: string;
  VulnID: string;
  Kind: HistoryKind;
  /** When it happened: the scan time for a scan's change (LastSeen, FixedAt, ReopenedAt), TriagedAt for a triage. */
  At: string;
  /** When DynamoDB recorded the write (the stream record's time, ISO 8601). */
  RecordedAt: string;
  /** Who, through which request or run. */
  By: ChangeActor;
  /** The fields the change touched (a scan's detail fields, or the triage fields). */
  Fields?: string[];
  FromStatus?: FindingStatus;
  ToStatus?: FindingStatus;
  FromWorkflow?: WorkflowState;
  ToWorkflow?: WorkflowState;
  /** The run of a FIXED (the run whose completion closed it) or of the report. */
  RunId?: string;
  /** TTL (epoch seconds): DynamoDB removes the entry some time after ("Time to Live", Amazon DynamoDB Developer Guide). */
  ExpiresAt: number;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const field = (image: FindingImage, name: string): unknown => (image as unknown as Record<string, unknown>)[name];

function changedFields(before: FindingImage, after: FindingImage, pick: (name: string) => boolean): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names]
    .filter(pick)
    .filter((name) => !same(field(before, name), field(after, name)))
    .sort();
}

const storedWorkflow = (image: FindingImage): WorkflowState => image.Workflow ?? 'NEW';

/**
 * The entry of one change. A triage is told by TriagedAt moving (only a triage writes it); a fix and a reopening by
 * the status; anything else a scan wrote is `updated` with the detail fields it changed, or `seen` when it changed
 * none (a re-push of the same detail, a later LastSeen).
 */
export function historyEntry(change: FindingChange, retentionDays: number): HistoryEntry {
  if (retentionDays < MIN_HISTORY_RETENTION_DAYS)
    throw new Error(`history entries are kept at least ${MIN_HISTORY_RETENTION_DAYS} days`);
  const image = change.newImage ?? change.oldImage;
  if (image === undefined) throw new Error('a stream record without an image: the stream must be NEW_AND_OLD_IMAGES');
  const recordedAt = new Date(change.recordedAt * 1000).toISOString();
  const base = {
    Finding: historyKey(image.Org, image.VulnID),
    Seq: paddedSequence(change.sequenceNumber),
    Org: image.Org,
    VulnID: image.VulnID,
    RecordedAt: recordedAt,
    ExpiresAt: change.recordedAt + retentionDays * 24 * 60 * 60,
  };
  const { oldImage: before, newImage: after } = change;
  if (after === undefined) return { ...base, Kind: 'removed', At: recordedAt, By: {} };
  const actor = actorFromStored(after.By);
  const withRun = (entry: HistoryEntry): HistoryEntry =>
    actor.runId === undefined ? entry : { ...entry, RunId: actor.runId };
  if (before === undefined) {
    return withRun({
      ...base,
      Kind: 'created',
      At: after.LastSeen,
      By: actor,
      ToStatus: statusOf(after),
      ToWorkflow: storedWorkflow(after),
    });
  }
  if (after.TriagedAt !== undefined && after.TriagedAt !== before.TriagedAt) {
    return {
      ...base,
      Kind: 'triaged',
      At: after.TriagedAt,
      By: actorFromTriagedBy(after.TriagedBy),
      Fields: changedFields(before, after, (name) => (TRIAGE_FIELDS as readonly string[]).includes(name)),
      FromWorkflow: storedWorkflow(before),
      ToWorkflow: storedWorkflow(after),
    };
  }
  const fields = changedFields(before, after, (name) => !NOT_SCAN_FIELDS.has(name));
  const workflow =
    storedWorkflow(before) === storedWorkflow(after)
      ? {}
      : { FromWorkflow: storedWorkflow(before), ToWorkflow: storedWorkflow(after) };
  const status = { FromStatus: statusOf(before), ToStatus: statusOf(after) };
  if (status.FromStatus === 'OPEN' && status.ToStatus === 'FIXED') {
    return {
      ...base,
      Kind: 'fixed',
      At: after.FixedAt ?? recordedAt,
      By: actor,
      ...status,
      ...(after.FixedByRunId === undefined ? {} : { RunId: after.FixedByRunId }),
    };
  }
  if (status.FromStatus === 'FIXED' && status.ToStatus === 'OPEN') {
    return withRun({
      ...base,
      Kind: 'reopened',
      At: after.ReopenedAt ?? after.LastSeen,
      By: actor,
      Fields: fields,
      ...status,
      ...workflow,
    });
  }
  return withRun({
    ...base,
    Kind: fields.length > 0 ? 'updated' : 'seen',
    At: after.LastSeen,
    By: actor,
    Fields: fields,
  });
}

/** What GET /vuln/history answers of an entry: no table keys, no TTL. */
export function presentEntry(entry: HistoryEntry): Omit<HistoryEntry, 'Finding' | 'ExpiresAt'> {
  const shown: Partial<HistoryEntry> = { ...entry };
  delete shown.Finding;
  delete shown.ExpiresAt;
  return shown as Omit<HistoryEntry, 'Finding' | 'ExpiresAt'>;
}
