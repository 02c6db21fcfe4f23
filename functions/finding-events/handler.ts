import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { changesByOrg, retryFrom } from '../shared/core/finding-events';
import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  historyEntry,
  type FindingChange,
  type FindingImage,
} from '../shared/core/finding-history';
import { forEachBounded } from '../shared/core/concurrency';
import { numberEnv, requireEnv } from '../shared/adapters/config';
import { WRITE_CONCURRENCY } from '../shared/adapters/findings-repository';
import { putHistoryEntry } from '../shared/adapters/history-repository';
import { describeError, instrument } from '../shared/adapters/instrument';
import { logger } from '../shared/adapters/powertools';
import { applyOrgChanges } from '../shared/adapters/summary-repository';

const historyTable = requireEnv('HISTORY_TABLE_NAME');
const summaryTable = requireEnv('SUMMARY_TABLE_NAME');
const retentionDays = numberEnv('HISTORY_RETENTION_DAYS', DEFAULT_HISTORY_RETENTION_DAYS);

const image = (attributes: Record<string, unknown> | undefined): FindingImage | undefined =>
  attributes === undefined ? undefined : (unmarshall(attributes as Record<string, AttributeValue>) as FindingImage);

function changeOf(record: DynamoDBRecord): FindingChange {
  const stream = record.dynamodb;
  if (!stream?.SequenceNumber || !record.eventName) throw new Error('not a DynamoDB stream record');
  return {
    eventName: record.eventName,
    sequenceNumber: stream.SequenceNumber,
    recordedAt: stream.ApproximateCreationDateTime ?? Math.floor(Date.now() / 1000),
    oldImage: image(stream.OldImage),
    newImage: image(stream.NewImage),
  };
}

/**
 * The findings table's stream (NEW_AND_OLD_IMAGES): each record's history entry, then each org's summary deltas
 * (docs/finding-lifecycle.md, "History" and "The org summary"). Entries are written first; a summary takes only the
 * changes before the first entry that failed, so no change is counted without its entry. A failure answers the
 * lowest failed record (ReportBatchItemFailures): Lambda retries from it; the entries it writes again are the same
 * items, and the summary skips what it already counted (its per-org sequence number).
 */
export const handler = instrument(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const changes = event.Records.map(changeOf);
  const failed = new Set<number>();
  await forEachBounded(
    changes.map((change, index) => ({ change, index })),
    WRITE_CONCURRENCY,
    async ({ change, index }) => {
      try {
        await putHistoryEntry(historyTable, historyEntry(change, retentionDays));
      } catch (error) {
        logger.error('history entry not written', { ...describeError(error), sequenceNumber: change.sequenceNumber });
        failed.add(index);
      }
    },
  );
  const firstFailed = Math.min(...failed);
  const recorded = Number.isFinite(firstFailed) ? changes.slice(0, firstFailed) : changes;
  const byOrg = changesByOrg(recorded);
  await forEachBounded([...byOrg.entries()], WRITE_CONCURRENCY, async ([org, orgChanges]) => {
    try {
      await applyOrgChanges(summaryTable, org, orgChanges);
    } catch (error) {
      logger.error('org summary not updated', { ...describeError(error), org });
      failed.add(changes.indexOf(orgChanges[0] as FindingChange));
    }
  });
  const from = retryFrom(changes, failed);
  logger.info('finding changes recorded', {
    records: changes.length,
    orgs: byOrg.size,
    ...(from === undefined ? {} : { retryFrom: from }),
  });
  return { batchItemFailures: from === undefined ? [] : [{ itemIdentifier: from }] };
});
