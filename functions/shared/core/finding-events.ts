/**
 * What the stream consumer does with a batch, as pure rules (functions/finding-events/handler.ts does the I/O):
 * every change gets its history entry; each org's summary takes the deltas of its changes in sequence order, in
 * groups small enough for one UpdateItem, each conditioned on the org's last applied sequence number so that a
 * redelivered change is never counted twice (no transactions).
 */
import { paddedSequence, type FindingChange } from './finding-history';
import { addCounters, changeDelta, type Counters } from './org-summary';

/** Counters one summary UpdateItem may touch: its expression stays far below DynamoDB's 4 KB expression limit. */
export const MAX_COUNTERS_PER_UPDATE = 150;

const orgOf = (change: FindingChange): string => {
  const image = change.newImage ?? change.oldImage;
  if (image === undefined) throw new Error('a stream record without an image: the stream must be NEW_AND_OLD_IMAGES');
  return image.Org;
};

/** The changes of a batch by org, each list in the batch's (sequence) order. */
export function changesByOrg(changes: readonly FindingChange[]): Map<string, FindingChange[]> {
  const byOrg = new Map<string, FindingChange[]>();
  for (const change of changes) {
    const org = orgOf(change);
    byOrg.set(org, [...(byOrg.get(org) ?? []), change]);
  }
  return byOrg;
}

/** One summary UpdateItem: the changes from `first` to `last` (padded sequence numbers), their summed delta. */
export interface SummaryGroup {
  first: string;
  last: string;
  size: number;
  delta: Counters;
  /** The latest change's time (ISO 8601): the summary's lastChanged when the delta moves anything. */
  changedAt: string;
}

/**
 * Takes the next group from the head of `changes` (one org's, in order): as many changes as keep the delta within
 * MAX_COUNTERS_PER_UPDATE counters, at least one (a change touches at most 12).
 */
export function nextSummaryGroup(changes: readonly FindingChange[]): SummaryGroup | undefined {
  const head = changes[0];
  if (head === undefined) return undefined;
  const delta: Counters = {};
  let size = 0;
  for (const change of changes) {
    const next = addCounters({ ...delta }, changeDelta(change.oldImage, change.newImage));
    if (size > 0 && Object.keys(next).length > MAX_COUNTERS_PER_UPDATE) break;
    for (const key of Object.keys(delta)) delete delta[key];
    Object.assign(delta, next);
    size += 1;
  }
  const last = changes[size - 1] as FindingChange;
  return {
    first: paddedSequence(head.sequenceNumber),
    last: paddedSequence(last.sequenceNumber),
    size,
    delta,
    changedAt: new Date(last.recordedAt * 1000).toISOString(),
  };
}

/** The changes not yet applied when the summary says it applied up to `appliedUpTo` (padded). */
export const notYetApplied = (changes: readonly FindingChange[], appliedUpTo: string | undefined) =>
  appliedUpTo === undefined ? [...changes] : changes.filter((change) => paddedSequence(change.sequenceNumber) > appliedUpTo);

/**
 * The sequence number Lambda must retry from (ReportBatchItemFailures: it retries the batch from the lowest
 * reported record, "Configuring partial batch response with DynamoDB and Lambda", AWS Lambda Developer Guide), or
 * undefined when all succeeded. `failed` are the indexes in the batch that failed.
 */
export function retryFrom(changes: readonly FindingChange[], failed: Iterable<number>): string | undefined {
  const lowest = Math.min(...failed);
  return Number.isFinite(lowest) ? (changes[lowest] as FindingChange).sequenceNumber : undefined;
}
