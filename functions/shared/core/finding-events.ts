/**
 * What the stream consumer does with a batch, as pure rules (functions/finding-events/handler.ts does the I/O):
 * every change gets its history entry; each org's summary takes the deltas of its changes in sequence order, in
 * groups small enough for one UpdateItem, each conditioned on the org's last applied sequence number so that a
 * redelivered change is never counted twice (no transactions).
 */
import { forEachBounded } from './concurrency';
import { historyEntry, paddedSequence, type FindingChange, type HistoryEntry } from './finding-history';
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
    const list = byOrg.get(org);
    if (list) list.push(change);
    else byOrg.set(org, [change]);
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

/** How many counters `counters` would hold once `more` is added (addCounters drops the ones that sum to zero). */
function countersAfter(counters: Counters, more: Counters): number {
  let count = Object.keys(counters).length;
  for (const [key, value] of Object.entries(more)) {
    const before = counters[key];
    const sum = (before ?? 0) + value;
    if (before === undefined && sum !== 0) count += 1;
    else if (before !== undefined && sum === 0) count -= 1;
  }
  return count;
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
    const more = changeDelta(change.oldImage, change.newImage);
    if (size > 0 && countersAfter(delta, more) > MAX_COUNTERS_PER_UPDATE) break;
    addCounters(delta, more);
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
  appliedUpTo === undefined
    ? [...changes]
    : changes.filter((change) => paddedSequence(change.sequenceNumber) > appliedUpTo);

/**
 * The sequence number Lambda must retry from (ReportBatchItemFailures: it retries the batch from the lowest
 * reported record, "Configuring partial batch response with DynamoDB and Lambda", AWS Lambda Developer Guide), or
 * undefined when all succeeded. `failed` are the indexes in the batch that failed.
 */
export function retryFrom(changes: readonly FindingChange[], failed: Iterable<number>): string | undefined {
  const lowest = Math.min(...failed);
  return Number.isFinite(lowest) ? (changes[lowest] as FindingChange).sequenceNumber : undefined;
}

/** Refusals in a row before an org's changes are left to Lambda's retry (another consumer kept moving its Seq). */
const MAX_REFUSALS = 4;

/** The writes the consumer needs (adapters/history-repository.ts and summary-repository.ts; an in-memory store in tests). */
export interface FindingEventStore {
  putHistoryEntry(entry: HistoryEntry): Promise<void>;
  /**
   * Applies one group to the org's summary on the condition that its Seq is absent or below `group.first`, and sets
   * it to `group.last`; answers `{}` when applied, else `{refusedAt}`: the Seq the summary has already reached.
   */
  applySummaryGroup(org: string, group: SummaryGroup): Promise<{ refusedAt?: string }>;
}

/** Applies one org's changes (in sequence order) to its summary, skipping what the summary already counted. */
export async function applyOrgChanges(
  store: FindingEventStore,
  org: string,
  changes: readonly FindingChange[],
): Promise<void> {
  let pending = [...changes];
  let refusals = 0;
  for (let group = nextSummaryGroup(pending); group !== undefined; group = nextSummaryGroup(pending)) {
    const { refusedAt } = await store.applySummaryGroup(org, group);
    if (refusedAt === undefined) {
      pending = pending.slice(group.size);
      continue;
    }
    refusals += 1;
    if (refusals > MAX_REFUSALS) throw new Error('the org summary kept moving: leaving the batch to a retry');
    pending = notYetApplied(pending, refusedAt);
  }
}

export interface BatchOutcome {
  /** The sequence number Lambda must retry from, or undefined when the whole batch is recorded. */
  retryFrom: string | undefined;
  orgs: number;
  /** What failed, for the log (never a finding's content). */
  failures: { sequenceNumber: string; stage: 'history' | 'summary'; error: unknown }[];
}

/**
 * One batch of the findings table's stream: every change's history entry first; then each org's summary takes only
 * the changes before the first entry that failed, so no change is counted without its entry. A failure answers the
 * lowest failed record: Lambda retries from it, the entries it writes again are the same items, and each summary
 * skips what it already counted.
 */
export async function recordBatch(
  store: FindingEventStore,
  changes: readonly FindingChange[],
  retentionDays: number,
  concurrency: number,
): Promise<BatchOutcome> {
  const failed = new Set<number>();
  const failures: BatchOutcome['failures'] = [];
  await forEachBounded(
    changes.map((change, index) => ({ change, index })),
    concurrency,
    async ({ change, index }) => {
      try {
        await store.putHistoryEntry(historyEntry(change, retentionDays));
      } catch (error) {
        failures.push({ sequenceNumber: change.sequenceNumber, stage: 'history', error });
        failed.add(index);
      }
    },
  );
  const firstFailed = Math.min(...failed);
  const byOrg = changesByOrg(Number.isFinite(firstFailed) ? changes.slice(0, firstFailed) : changes);
  await forEachBounded([...byOrg.entries()], concurrency, async ([org, orgChanges]) => {
    try {
      await applyOrgChanges(store, org, orgChanges);
    } catch (error) {
      const first = orgChanges[0] as FindingChange;
      failures.push({ sequenceNumber: first.sequenceNumber, stage: 'summary', error });
      failed.add(changes.indexOf(first));
    }
  });
  return { retryFrom: retryFrom(changes, failed), orgs: byOrg.size, failures };
}
