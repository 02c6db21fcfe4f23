import { QueryCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { NormalizedFinding } from '../core/normalize';
import type { Severity } from '../core/severity';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';

export interface UpsertResult {
  created: number;
  updated: number;
}

/** How many upserts of one batch run at once: enough to finish 100 quickly, few enough not to self-throttle. */
const WRITE_CONCURRENCY = 10;

/**
 * Upsert keyed by Org + VulnID: FirstSeen kept from the first report, LastSeen and the fields set.
 * Idempotent, so the state machine may retry a batch that failed half-way. No transactions.
 */
async function upsertOne(tableName: string, finding: NormalizedFinding, now: string): Promise<'created' | 'updated'> {
  const { Org, VulnID, ...fields } = finding;
  const names: Record<string, string> = { '#FirstSeen': 'FirstSeen', '#LastSeen': 'LastSeen' };
  const values: Record<string, unknown> = { ':now': now };
  const sets = ['#FirstSeen = if_not_exists(#FirstSeen, :now)', '#LastSeen = :now'];
  for (const [name, value] of Object.entries(fields)) {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  const result = await dynamoDbClient.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: marshall({ Org, VulnID }),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
      // The old FirstSeen tells a new item from an existing one without a read or a condition.
      ReturnValues: 'UPDATED_OLD',
    }),
  );
  return result.Attributes?.FirstSeen === undefined ? 'created' : 'updated';
}

export async function upsertFindings(tableName: string, findings: NormalizedFinding[], now: Date): Promise<UpsertResult> {
  const timestamp = now.toISOString();
  const outcome: UpsertResult = { created: 0, updated: 0 };
  const queue = [...findings];
  const worker = async () => {
    for (let finding = queue.shift(); finding !== undefined; finding = queue.shift()) {
      outcome[await upsertOne(tableName, finding, timestamp)] += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, findings.length) }, worker));
  } catch (error) {
    throw classifyAwsError(error);
  }
  return outcome;
}

export interface StoredFinding extends NormalizedFinding {
  FirstSeen: string;
  LastSeen: string;
}

export interface FindingsPage {
  items: StoredFinding[];
  /** VulnID of the last item read when more may follow. */
  lastVulnId: string | undefined;
}

/** Bounds the work of one GET when a severity filter skips many items. */
const MAX_QUERY_ROUNDS = 10;

/**
 * One page of an org's findings. With a severity filter DynamoDB applies Limit before the filter,
 * so rounds continue with the remaining budget until the page is full or the partition ends.
 */
export async function queryFindings(
  tableName: string,
  options: { org: string; limit: number; afterVulnId: string | undefined; severity: Severity | undefined },
): Promise<FindingsPage> {
  const items: StoredFinding[] = [];
  let startKey: Record<string, AttributeValue> | undefined = options.afterVulnId
    ? marshall({ Org: options.org, VulnID: options.afterVulnId })
    : undefined;
  try {
    for (let round = 0; round < MAX_QUERY_ROUNDS && items.length < options.limit; round += 1) {
      const result = await dynamoDbClient.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#Org = :org',
          ExpressionAttributeNames: { '#Org': 'Org', ...(options.severity ? { '#Severity': 'Severity' } : {}) },
          ExpressionAttributeValues: marshall({ ':org': options.org, ...(options.severity ? { ':severity': options.severity } : {}) }),
          ...(options.severity ? { FilterExpression: '#Severity = :severity' } : {}),
          Limit: options.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(result.Items ?? []).map((item) => unmarshall(item) as StoredFinding));
      startKey = result.LastEvaluatedKey;
      if (startKey === undefined) break;
    }
  } catch (error) {
    throw classifyAwsError(error);
  }
  return { items, lastVulnId: startKey ? (unmarshall(startKey).VulnID as string) : undefined };
}
