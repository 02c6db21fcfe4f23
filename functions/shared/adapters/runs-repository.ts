/**
 * Scan runs in the runs table, keyed by RunId. Counts are numbers the batches ADD to, the assets a
 * string set they ADD to; every state change is a conditional write, so two completes, a batch racing
 * a complete, or a repeated close cannot step a run backwards.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError } from '../core/errors';
import type { WriteCounts } from '../core/lifecycle';
import type { RunCounts, ScanRun } from '../core/scan-run';
import { COUNT_ATTRIBUTES, runItem, toRun, type RunItem } from './run-item';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw classifyAwsError(error);
  }
}

export function createRun(tableName: string, run: ScanRun): Promise<void> {
  return guarded(async () => {
    await dynamoDbClient.send(
      new PutItemCommand({
        TableName: tableName,
        Item: runItem(run),
        ConditionExpression: 'attribute_not_exists(RunId)',
      }),
    );
  });
}

export function getRun(tableName: string, runId: string): Promise<ScanRun | undefined> {
  return guarded(async () => {
    const result = await dynamoDbClient.send(
      new GetItemCommand({ TableName: tableName, Key: marshall({ RunId: runId }), ConsistentRead: true }),
    );
    return result.Item ? toRun(unmarshall(result.Item) as RunItem) : undefined;
  });
}

/** Adds one batch's counts and assets to an open run; a run that stopped being open meanwhile is a conflict. */
export function recordBatch(
  tableName: string,
  runId: string,
  received: number,
  counts: WriteCounts,
  assets: string[],
): Promise<void> {
  const names: Record<string, string> = { '#State': 'State' };
  const values: Record<string, unknown> = { ':open': 'open', ':one': 1, ':received': received };
  const adds = ['#Batches :one', '#Received :received'];
  names['#Batches'] = 'Batches';
  names['#Received'] = 'Received';
  for (const [name, value] of Object.entries(counts)) {
    const attribute = COUNT_ATTRIBUTES[name as keyof RunCounts];
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    adds.push(`#${attribute} :${attribute}`);
  }
  if (assets.length > 0) {
    names['#Assets'] = 'Assets';
    values[':assets'] = new Set(assets);
    adds.push('#Assets :assets');
  }
  return guarded(async () => {
    try {
      await dynamoDbClient.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall({ RunId: runId }),
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ConditionExpression: '#State = :open',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConflictError('run-not-open');
      throw error;
    }
  });
}

/** Moves the run to closing (from open, or from a closing that looks stuck); false when another complete got there first. */
export function beginClosing(
  tableName: string,
  run: Pick<ScanRun, 'runId' | 'state' | 'closingStartedAt'>,
  now: Date,
): Promise<boolean> {
  const sameStart =
    run.closingStartedAt === undefined
      ? 'attribute_not_exists(#ClosingStartedAt)'
      : '#ClosingStartedAt = :previousStart';
  return guarded(async () => {
    try {
      await dynamoDbClient.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall({ RunId: run.runId }),
          UpdateExpression: 'SET #State = :closing, #ClosingStartedAt = :now',
          ConditionExpression: `#State = :state AND ${sameStart}`,
          ExpressionAttributeNames: { '#State': 'State', '#ClosingStartedAt': 'ClosingStartedAt' },
          ExpressionAttributeValues: marshall(
            {
              ':closing': 'closing',
              ':now': now.toISOString(),
              ':state': run.state,
              ':previousStart': run.closingStartedAt,
            },
            { removeUndefinedValues: true },
          ),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  });
}

/**
 * Records a finished pass: closed, with the number of findings this run fixed. A pass counts every
 * finding the run has fixed, by it or by an earlier pass, so the highest count of any pass is the one kept.
 */
export function finishClosing(tableName: string, runId: string, fixed: number, now: Date): Promise<void> {
  const update = (withCount: boolean) =>
    dynamoDbClient.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ RunId: runId }),
        UpdateExpression: withCount
          ? 'SET #State = :closed, #ClosedAt = if_not_exists(#ClosedAt, :now), #Fixed = :fixed'
          : 'SET #State = :closed, #ClosedAt = if_not_exists(#ClosedAt, :now)',
        ConditionExpression: withCount
          ? // Flat (condition.ts): no count yet, or one not above this one.
            'attribute_exists(RunId) AND NOT #Fixed > :fixed'
          : 'attribute_exists(RunId)',
        ExpressionAttributeNames: {
          '#State': 'State',
          '#ClosedAt': 'ClosedAt',
          ...(withCount ? { '#Fixed': 'Fixed' } : {}),
        },
        ExpressionAttributeValues: marshall({
          ':closed': 'closed',
          ':now': now.toISOString(),
          ...(withCount ? { ':fixed': fixed } : {}),
        }),
      }),
    );
  return guarded(async () => {
    try {
      await update(true);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await update(false);
    }
  });
}
