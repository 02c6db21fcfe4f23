/** The findings the bench sends and stores, and the plain SDK calls that are its baseline. */
import {
  BatchWriteItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Finding } from '../functions/shared/core/finding-schema';
import { normalizeFinding } from '../functions/shared/core/normalize';
import { REFERENCE_FINDING } from '../local/seed';

export const INGEST_ORG = 'bench-ingest';
export const READ_ORG = 'bench-read';
export const TRIAGE_ORG = 'bench-triage';

/** The VulnID of the `index`th finding `seedOrg` stores. */
export const seededVulnId = (index: number) => `read-${String(index).padStart(6, '0')}`;

export const benchFinding = (id: string, org = INGEST_ORG): Finding => ({
  ...REFERENCE_FINDING,
  Org: org,
  VulnID: id,
  AssetName: `host-${id.length % 50}.example.com`,
});

/** The upsert the write function performs (FirstSeen kept, LastSeen and fields set), as one plain UpdateItem. */
export async function rawUpsert(client: DynamoDBClient, table: string, finding: Finding): Promise<void> {
  const { Org, VulnID, ...fields } = normalizeFinding(finding);
  const names: Record<string, string> = { '#FirstSeen': 'FirstSeen', '#LastSeen': 'LastSeen' };
  const values: Record<string, unknown> = { ':now': new Date().toISOString() };
  const sets = ['#FirstSeen = if_not_exists(#FirstSeen, :now)', '#LastSeen = :now'];
  for (const [name, value] of Object.entries(fields)) {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: marshall({ Org, VulnID }),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
      ReturnValues: 'UPDATED_OLD',
      // As the write function asks: the bench reads the units from the server's request meter.
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
}

/** One page of an org's findings as the GET function reads it: a Query on the partition with Limit. */
export async function rawQueryPage(
  client: DynamoDBClient,
  table: string,
  org: string,
  limit: number,
  startKey?: Record<string, AttributeValue>,
) {
  const page = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'Org = :org',
      ExpressionAttributeValues: marshall({ ':org': org }),
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  return page.LastEvaluatedKey;
}

/** Stores `count` findings in `org` directly (25 per BatchWriteItem, unprocessed items sent again), with `extra` attributes. */
export async function seedOrg(
  client: DynamoDBClient,
  table: string,
  org: string,
  count: number,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const now = new Date().toISOString();
  for (let start = 0; start < count; start += 25) {
    let requests = Array.from({ length: Math.min(25, count - start) }, (_, offset) => ({
      PutRequest: {
        Item: marshall(
          {
            ...normalizeFinding(benchFinding(seededVulnId(start + offset), org)),
            FirstSeen: now,
            LastSeen: now,
            ...extra,
          },
          { removeUndefinedValues: true },
        ),
      },
    }));
    for (let attempt = 0; requests.length > 0 && attempt < 10; attempt += 1) {
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
      requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
    if (requests.length > 0) throw new Error('The DynamoDB-API server kept items unprocessed while seeding');
  }
}
