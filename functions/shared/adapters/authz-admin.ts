/**
 * Reads and edits the authz table (grants per OU, revoked certificate serials) in the layout the
 * functions read through Powertools Parameters. Used by `npm run authz` and the local seed.
 */
import { DeleteItemCommand, PutItemCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { grantSchema, type Grant } from '../core/authz-policy';
import { normalizeSerial } from '../core/identity';
import { AUTHZ_KEY_ATTRIBUTE, AUTHZ_VALUE_ATTRIBUTE, grantKey, revocationKey } from '../core/authz-table';

export async function putGrant(client: DynamoDBClient, table: string, ou: string, grant: Grant): Promise<void> {
  const value = grantSchema.parse(grant);
  await client.send(new PutItemCommand({ TableName: table, Item: marshall({ [AUTHZ_KEY_ATTRIBUTE]: grantKey(ou), [AUTHZ_VALUE_ATTRIBUTE]: value }, { removeUndefinedValues: true }) }));
}

export async function deleteGrant(client: DynamoDBClient, table: string, ou: string): Promise<boolean> {
  const result = await client.send(
    new DeleteItemCommand({ TableName: table, Key: marshall({ [AUTHZ_KEY_ATTRIBUTE]: grantKey(ou) }), ReturnValues: 'ALL_OLD' }),
  );
  return result.Attributes !== undefined;
}

export async function revokeSerial(client: DynamoDBClient, table: string, serial: string, reason?: string): Promise<string> {
  const serialNumber = normalizeSerial(serial);
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: marshall({ [AUTHZ_KEY_ATTRIBUTE]: revocationKey(serialNumber), [AUTHZ_VALUE_ATTRIBUTE]: { revokedAt: new Date().toISOString(), ...(reason ? { reason } : {}) } }),
    }),
  );
  return serialNumber;
}

export interface AuthzEntries {
  grants: { ou: string; grant: unknown }[];
  revokedSerials: { serialNumber: string; revokedAt: unknown }[];
}

export async function listAuthz(client: DynamoDBClient, table: string): Promise<AuthzEntries> {
  const entries: AuthzEntries = { grants: [], revokedSerials: [] };
  let startKey: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      const { [AUTHZ_KEY_ATTRIBUTE]: id, [AUTHZ_VALUE_ATTRIBUTE]: value } = unmarshall(item) as { Id: string; Value: Record<string, unknown> };
      if (id.startsWith('OU#')) entries.grants.push({ ou: id.slice(3), grant: value });
      else if (id.startsWith('SERIAL#')) entries.revokedSerials.push({ serialNumber: id.slice(7), revokedAt: value?.revokedAt });
    }
    startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (startKey);
  entries.grants.sort((a, b) => a.ou.localeCompare(b.ou));
  return entries;
}
