/**
 * The org summary table: one item per org (key `Org`), its counters moved by deltas (core/org-summary.ts). Each
 * UpdateItem applies a group of one org's changes and is conditioned on the org's last applied sequence number
 * (`Seq`) being below the group's first: a retried or redelivered change at or below it is skipped, never counted
 * twice, and no transaction is needed (DynamoDB applies one UpdateItem atomically: "UpdateItem", Amazon DynamoDB API
 * Reference, https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html). The records of one
 * org share the findings table's partition key (Org), so they arrive through one shard at a time, in order, parent
 * shards before their children ("Using AWS Lambda with Amazon DynamoDB", AWS Lambda Developer Guide).
 */
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { SummaryGroup } from '../core/finding-events';
import { prunableCounters } from '../core/org-summary';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';

async function appliedUpTo(tableName: string, org: string): Promise<string | undefined> {
  const result = await dynamoDbClient.send(
    new GetItemCommand({
      TableName: tableName,
      Key: marshall({ Org: org }),
      ConsistentRead: true,
      ProjectionExpression: '#Seq',
      ExpressionAttributeNames: { '#Seq': 'Seq' },
    }),
  );
  return result.Item ? (unmarshall(result.Item).Seq as string | undefined) : undefined;
}

/** Applies one group of an org's changes (FindingEventStore.applySummaryGroup, core/finding-events.ts). */
export async function applySummaryGroup(
  tableName: string,
  org: string,
  group: SummaryGroup,
): Promise<{ refusedAt?: string }> {
  const names: Record<string, string> = { '#Seq': 'Seq' };
  const values: Record<string, unknown> = { ':first': group.first, ':last': group.last };
  const sets = ['#Seq = :last'];
  const adds: string[] = [];
  Object.entries(group.delta).forEach(([counter, value], index) => {
    names[`#c${index}`] = counter;
    values[`:c${index}`] = value;
    adds.push(`#c${index} :c${index}`);
  });
  if (adds.length > 0) {
    names['#Changed'] = 'Changed';
    values[':changed'] = group.changedAt;
    sets.push('#Changed = :changed');
  }
  try {
    const result = await dynamoDbClient.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ Org: org }),
        UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_not_exists(#Seq) OR #Seq < :first',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const item = result.Attributes ? unmarshall(result.Attributes) : {};
    await removeCounters(
      tableName,
      org,
      Object.entries(item)
        .filter(([, value]) => value === 0)
        .map(([name]) => name),
      prunableCounters(item, new Date()),
    );
    return {};
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error);
    // The refusal carries the item (no read); a server that does not return it is read instead.
    try {
      const seq = error.Item ? (unmarshall(error.Item).Seq as string | undefined) : await appliedUpTo(tableName, org);
      return { refusedAt: seq ?? '' };
    } catch (readError) {
      throw classifyAwsError(readError);
    }
  }
}

/**
 * Counters that came back to 0 are removed, so the item holds only the buckets that count something: conditioned on
 * each still being 0, so a delta landing meanwhile keeps its counter. Window buckets of days no window reaches any
 * more (`prunableCounters`, core/org-summary.ts) are removed too, without a condition: no read uses them, whatever
 * lands in them meanwhile. A failure changes no figure (a 0 or an old bucket reads as nothing), so it is not an error.
 */
async function removeCounters(tableName: string, org: string, zeros: string[], old: string[]): Promise<void> {
  const pruned = old.filter((name) => !zeros.includes(name));
  if (zeros.length === 0 && pruned.length === 0) return;
  const zeroNames = Object.fromEntries(zeros.map((name, index) => [`#z${index}`, name]));
  const oldNames = Object.fromEntries(pruned.map((name, index) => [`#p${index}`, name]));
  try {
    await dynamoDbClient.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ Org: org }),
        UpdateExpression: `REMOVE ${[...Object.keys(zeroNames), ...Object.keys(oldNames)].join(', ')}`,
        ...(zeros.length > 0
          ? {
              ConditionExpression: Object.keys(zeroNames)
                .map((name) => `${name} = :zero`)
                .join(' AND '),
              ExpressionAttributeValues: marshall({ ':zero': 0 }),
            }
          : {}),
        ExpressionAttributeNames: { ...zeroNames, ...oldNames },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error);
  }
}

/** The stored summary item of an org (empty: no change recorded yet). */
export async function getSummaryItem(tableName: string, org: string): Promise<Record<string, unknown>> {
  try {
    const result = await dynamoDbClient.send(
      new GetItemCommand({ TableName: tableName, Key: marshall({ Org: org }), ConsistentRead: false }),
    );
    return result.Item ? unmarshall(result.Item) : {};
  } catch (error) {
    throw classifyAwsError(error);
  }
}
