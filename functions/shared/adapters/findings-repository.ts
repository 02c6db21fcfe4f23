import { QueryCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { OPTIONAL_FINDING_FIELDS } from '../core/finding-schema';
import { lastPerKey, type NormalizedFinding } from '../core/normalize';
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
 * Upsert keyed by Org + VulnID: FirstSeen kept from the first report, LastSeen and the fields set,
 * optional fields the new report no longer carries removed (a re-scan replaces the finding's detail).
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
  const removes = OPTIONAL_FINDING_FIELDS.filter((name) => !(name in fields));
  for (const name of removes) names[`#${name}`] = name;
  const update = `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.map((name) => `#${name}`).join(', ')}` : ''}`;
  const result = await dynamoDbClient.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: marshall({ Org, VulnID }),
      UpdateExpression: update,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
      // The old FirstSeen tells a new item from an existing one without a read or a condition.
      ReturnValues: 'UPDATED_OLD',
    }),
  );
  return result.Attributes?.FirstSeen === undefined ? 'created' : 'updated';
}

/** Upserts a batch; a VulnID repeated in it (same Org) is written once, with its last occurrence's fields. */
export async function upsertFindings(tableName: string, findings: NormalizedFinding[], now: Date): Promise<UpsertResult> {
  const timestamp = now.toISOString();
  const outcome: UpsertResult = { created: 0, updated: 0 };
  const queue = lastPerKey(findings);
  const worker = async () => {
    for (let finding = queue.shift(); finding !== undefined; finding = queue.shift()) {
      outcome[await upsertOne(tableName, finding, timestamp)] += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, queue.length) }, worker));
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

/** Bounds the work of one GET when a filter skips many items. */
const MAX_QUERY_ROUNDS = 10;

export interface FindingsFilter {
  /** Any of these severities (`severity=` gives one, `minSeverity=` the ranks at or above it). */
  severities?: Severity[] | undefined;
  /** The normalized asset name. */
  asset?: string | undefined;
  /** A CVE id the finding's `Cves` contains. */
  cve?: string | undefined;
}

/** A DynamoDB filter expression for the filters given, or undefined for none. */
export function filterExpression(filter: FindingsFilter): { expression: string; names: Record<string, string>; values: Record<string, unknown> } | undefined {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (filter.severities !== undefined) {
    names['#Severity'] = 'Severity';
    const placeholders = filter.severities.map((severity, index) => {
      values[`:severity${index}`] = severity;
      return `:severity${index}`;
    });
    clauses.push(`#Severity IN (${placeholders.join(', ')})`);
  }
  if (filter.asset !== undefined) {
    names['#AssetName'] = 'AssetName';
    values[':asset'] = filter.asset;
    clauses.push('#AssetName = :asset');
  }
  if (filter.cve !== undefined) {
    names['#Cves'] = 'Cves';
    values[':cve'] = filter.cve;
    clauses.push('contains(#Cves, :cve)');
  }
  return clauses.length === 0 ? undefined : { expression: clauses.join(' AND '), names, values };
}

/**
 * One page of an org's findings. With a filter DynamoDB applies Limit before the filter, so rounds
 * continue with the remaining budget until the page is full, the partition ends or the round budget
 * is spent: a filtered page may hold fewer than `limit` items and still carry a position to go on from.
 */
export async function queryFindings(
  tableName: string,
  options: { org: string; limit: number; afterVulnId: string | undefined; filter: FindingsFilter },
): Promise<FindingsPage> {
  const items: StoredFinding[] = [];
  let startKey: Record<string, AttributeValue> | undefined = options.afterVulnId
    ? marshall({ Org: options.org, VulnID: options.afterVulnId })
    : undefined;
  const filter = filterExpression(options.filter);
  try {
    for (let round = 0; round < MAX_QUERY_ROUNDS && items.length < options.limit; round += 1) {
      const result = await dynamoDbClient.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#Org = :org',
          ExpressionAttributeNames: { '#Org': 'Org', ...filter?.names },
          ExpressionAttributeValues: marshall({ ':org': options.org, ...filter?.values }),
          ...(filter ? { FilterExpression: filter.expression } : {}),
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
