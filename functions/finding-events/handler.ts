import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { recordBatch, type FindingEventStore } from '../shared/core/finding-events';
import { DEFAULT_HISTORY_RETENTION_DAYS, type FindingChange, type FindingImage } from '../shared/core/finding-history';
import { numberEnv, requireEnv } from '../shared/adapters/config';
import { WRITE_CONCURRENCY } from '../shared/core/concurrency';
import { putHistoryEntry } from '../shared/adapters/history-repository';
import { describeError, instrument } from '../shared/adapters/instrument';
import { logger } from '../shared/adapters/powertools';
import { applySummaryGroup } from '../shared/adapters/summary-repository';

const historyTable = requireEnv('HISTORY_TABLE_NAME');
const summaryTable = requireEnv('SUMMARY_TABLE_NAME');
const retentionDays = numberEnv('HISTORY_RETENTION_DAYS', DEFAULT_HISTORY_RETENTION_DAYS);

const store: FindingEventStore = {
  putHistoryEntry: (entry) => putHistoryEntry(historyTable, entry),
  applySummaryGroup: (org, group) => applySummaryGroup(summaryTable, org, group),
};

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
 * The findings table's stream (NEW_AND_OLD_IMAGES, event source mapping with ReportBatchItemFailures): each record's
 * history entry, then each org's summary deltas (core/finding-events.ts recordBatch). A failure answers the lowest
 * failed record, and Lambda retries from it.
 */
export const handler = instrument(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const changes = event.Records.map(changeOf);
  const outcome = await recordBatch(store, changes, retentionDays, WRITE_CONCURRENCY);
  for (const failure of outcome.failures)
    logger.error(failure.stage === 'history' ? 'history entry not written' : 'org summary not updated', {
      ...describeError(failure.error),
      sequenceNumber: failure.sequenceNumber,
    });
  logger.info('finding changes recorded', {
    records: changes.length,
    orgs: outcome.orgs,
    ...(outcome.retryFrom === undefined ? {} : { retryFrom: outcome.retryFrom }),
  });
  return { batchItemFailures: outcome.retryFrom === undefined ? [] : [{ itemIdentifier: outcome.retryFrom }] };
});
