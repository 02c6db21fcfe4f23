/**
 * The history table: one item per finding change, keyed by `Finding` (Org#VulnID) and `Seq` (the stream record's
 * padded sequence number). A redelivered record puts the very same item again: writing it is idempotent.
 */
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { historyKey, type HistoryEntry } from '../core/finding-history';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';

export async function putHistoryEntry(tableName: string, entry: HistoryEntry): Promise<void> {
  try {
    await dynamoDbClient.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall(entry, { removeUndefinedValues: true }),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
  } catch (error) {
    throw classifyAwsError(error);
  }
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** The Seq of the last entry read when more may follow. */
  lastSeq: string | undefined;
}

/** One page of a finding's history, newest first (descending Seq). */
export async function queryHistory(
  tableName: string,
  options: { org: string; vulnId: string; limit: number; beforeSeq: string | undefined },
): Promise<HistoryPage> {
  const finding = historyKey(options.org, options.vulnId);
  try {
    const result = await dynamoDbClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#Finding = :finding',
        ExpressionAttributeNames: { '#Finding': 'Finding' },
        ExpressionAttributeValues: marshall({ ':finding': finding }),
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.beforeSeq === undefined
          ? {}
          : { ExclusiveStartKey: marshall({ Finding: finding, Seq: options.beforeSeq }) }),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return {
      entries: (result.Items ?? []).map((item) => unmarshall(item) as HistoryEntry),
      lastSeq: result.LastEvaluatedKey ? (unmarshall(result.LastEvaluatedKey).Seq as string) : undefined,
    };
  } catch (error) {
    throw classifyAwsError(error);
  }
}
