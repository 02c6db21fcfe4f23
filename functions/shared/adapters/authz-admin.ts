/**
 * Reads and edits the authz table (grants per OU, the CA registry, revoked certificates, SLA policies) in the
 * layout the functions read through Powertools Parameters (core/authz-table.ts). Used by
 * `npm run authz` and the local seed. Certificates arrive parsed; keys are derived here, never typed.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { X509Certificate } from 'node:crypto';
import { grantSchema, registeredIssuerSchema, type Grant, type RegisteredIssuer } from '../core/authz-policy';
import { distinguishedName, issuerKeyOf, normalizeSerial } from '../core/identity';
import {
  AUTHZ_KEY_ATTRIBUTE,
  AUTHZ_VALUE_ATTRIBUTE,
  ISSUERS_KEY,
  grantKey,
  legacyRevocationKey,
  revocationKey,
  slaKey,
} from '../core/authz-table';
import { slaPolicySchema, type SlaPolicy } from '../core/sla';

const key = (id: string) => marshall({ [AUTHZ_KEY_ATTRIBUTE]: id });

/** Adds a CA to the registry (kept as is when already there): pins and revocations name CAs the authorization step can find. */
export async function registerIssuer(client: DynamoDBClient, table: string, ca: X509Certificate): Promise<string> {
  const { spkiSha256, publicKey } = issuerKeyOf(ca);
  const names = { '#v': AUTHZ_VALUE_ATTRIBUTE, '#k': spkiSha256 };
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key(ISSUERS_KEY),
      UpdateExpression: 'SET #v = if_not_exists(#v, :empty)',
      ExpressionAttributeNames: { '#v': AUTHZ_VALUE_ATTRIBUTE },
      ExpressionAttributeValues: marshall({ ':empty': {} }),
    }),
  );
  const entry: RegisteredIssuer = { publicKey, subject: distinguishedName(ca.subject) };
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key(ISSUERS_KEY),
      UpdateExpression: 'SET #v.#k = if_not_exists(#v.#k, :entry)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall({ ':entry': entry }),
    }),
  );
  return spkiSha256;
}

/** Writes an OU's grant (replacing any); resolves with the grant it replaced, undefined when there was none. */
export async function putGrant(
  client: DynamoDBClient,
  table: string,
  ou: string,
  grant: Grant,
  issuerCa?: X509Certificate,
): Promise<unknown> {
  if (grant.issuerDN !== undefined)
    throw new RangeError('a grant pins its issuer by the CA certificate, never by DN text');
  const value = grantSchema.parse(
    issuerCa ? { ...grant, issuer: { ...issuerKeyOf(issuerCa), subject: distinguishedName(issuerCa.subject) } } : grant,
  );
  if (issuerCa) await registerIssuer(client, table, issuerCa);
  const result = await client.send(
    new PutItemCommand({
      TableName: table,
      Item: marshall(
        { [AUTHZ_KEY_ATTRIBUTE]: grantKey(ou), [AUTHZ_VALUE_ATTRIBUTE]: value },
        { removeUndefinedValues: true },
      ),
      ReturnValues: 'ALL_OLD',
    }),
  );
  return result.Attributes ? unmarshall(result.Attributes)[AUTHZ_VALUE_ATTRIBUTE] : undefined;
}

/** An OU's grant as stored (unchecked), undefined when it has none. */
export async function getGrant(client: DynamoDBClient, table: string, ou: string): Promise<unknown> {
  const item = (
    await client.send(new GetItemCommand({ TableName: table, Key: key(grantKey(ou)), ConsistentRead: true }))
  ).Item;
  return item ? unmarshall(item)[AUTHZ_VALUE_ATTRIBUTE] : undefined;
}

export async function deleteGrant(client: DynamoDBClient, table: string, ou: string): Promise<boolean> {
  const result = await client.send(
    new DeleteItemCommand({ TableName: table, Key: key(grantKey(ou)), ReturnValues: 'ALL_OLD' }),
  );
  return result.Attributes !== undefined;
}

/** Revokes one client certificate, named by its issuer's key and its serial. */
export async function revokeCertificate(
  client: DynamoDBClient,
  table: string,
  issuerCa: X509Certificate,
  serial: string,
  options: { reason?: string; subject?: string } = {},
): Promise<{ issuerKey: string; serialNumber: string }> {
  const serialNumber = normalizeSerial(serial);
  const issuerKey = await registerIssuer(client, table, issuerCa);
  const value = {
    revokedAt: new Date().toISOString(),
    ...(options.reason ? { reason: options.reason } : {}),
    ...(options.subject ? { subject: options.subject } : {}),
  };
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: marshall({ [AUTHZ_KEY_ATTRIBUTE]: revocationKey(issuerKey, serialNumber), [AUTHZ_VALUE_ATTRIBUTE]: value }),
    }),
  );
  return { issuerKey, serialNumber };
}

/** Undoes `revokeCertificate` (and a serial-only revocation of an earlier version); true when something was revoked. */
export async function unrevokeCertificate(
  client: DynamoDBClient,
  table: string,
  issuerCa: X509Certificate,
  serial: string,
): Promise<boolean> {
  const serialNumber = normalizeSerial(serial);
  const ids = [revocationKey(issuerKeyOf(issuerCa).spkiSha256, serialNumber), legacyRevocationKey(serialNumber)];
  let removed = false;
  for (const id of ids) {
    const result = await client.send(
      new DeleteItemCommand({ TableName: table, Key: key(id), ReturnValues: 'ALL_OLD' }),
    );
    removed ||= result.Attributes !== undefined;
  }
  return removed;
}

/** Revokes a CA: every certificate its key signed is denied. */
export async function revokeIssuer(
  client: DynamoDBClient,
  table: string,
  ca: X509Certificate,
  reason?: string,
): Promise<string> {
  const issuerKey = await registerIssuer(client, table, ca);
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key(ISSUERS_KEY),
      UpdateExpression: reason
        ? 'SET #v.#k.revokedAt = :at, #v.#k.reason = :reason'
        : 'SET #v.#k.revokedAt = :at REMOVE #v.#k.reason',
      ExpressionAttributeNames: { '#v': AUTHZ_VALUE_ATTRIBUTE, '#k': issuerKey },
      ExpressionAttributeValues: marshall({
        ':at': new Date().toISOString(),
        ...(reason ? { ':reason': reason } : {}),
      }),
    }),
  );
  return issuerKey;
}

/** Undoes `revokeIssuer`; true when the CA was revoked. */
export async function unrevokeIssuer(client: DynamoDBClient, table: string, ca: X509Certificate): Promise<boolean> {
  const issuerKey = issuerKeyOf(ca).spkiSha256;
  const issuers = await readIssuers(client, table);
  if (issuers[issuerKey]?.revokedAt === undefined) return false;
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key(ISSUERS_KEY),
      UpdateExpression: 'REMOVE #v.#k.revokedAt, #v.#k.reason',
      ExpressionAttributeNames: { '#v': AUTHZ_VALUE_ATTRIBUTE, '#k': issuerKey },
    }),
  );
  return true;
}

function parseIssuers(value: unknown): Record<string, RegisteredIssuer> {
  const issuers: Record<string, RegisteredIssuer> = {};
  for (const [issuerKey, entry] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    const parsed = registeredIssuerSchema.safeParse(entry);
    if (parsed.success) issuers[issuerKey] = parsed.data;
  }
  return issuers;
}

async function readIssuers(client: DynamoDBClient, table: string): Promise<Record<string, RegisteredIssuer>> {
  const item = (
    await client.send(new GetItemCommand({ TableName: table, Key: key(ISSUERS_KEY), ConsistentRead: true }))
  ).Item;
  return parseIssuers(item ? unmarshall(item)[AUTHZ_VALUE_ATTRIBUTE] : undefined);
}

/** An org's SLA policy as stored (unchecked), undefined when it has none (it has the defaults). */
export async function getSlaPolicy(client: DynamoDBClient, table: string, org: string): Promise<unknown> {
  const item = (
    await client.send(new GetItemCommand({ TableName: table, Key: key(slaKey(org)), ConsistentRead: true }))
  ).Item;
  return item ? unmarshall(item)[AUTHZ_VALUE_ATTRIBUTE] : undefined;
}

/** Writes an org's SLA policy (all five severities, checked); resolves with the one it replaced, if any. */
export async function putSlaPolicy(
  client: DynamoDBClient,
  table: string,
  org: string,
  policy: SlaPolicy,
): Promise<unknown> {
  const value = slaPolicySchema.parse(policy);
  const result = await client.send(
    new PutItemCommand({
      TableName: table,
      Item: marshall({ [AUTHZ_KEY_ATTRIBUTE]: slaKey(org), [AUTHZ_VALUE_ATTRIBUTE]: value }),
      ReturnValues: 'ALL_OLD',
    }),
  );
  return result.Attributes ? unmarshall(result.Attributes)[AUTHZ_VALUE_ATTRIBUTE] : undefined;
}

/** Removes an org's SLA policy (back to the defaults); true when it had one. */
export async function deleteSlaPolicy(client: DynamoDBClient, table: string, org: string): Promise<boolean> {
  const result = await client.send(
    new DeleteItemCommand({ TableName: table, Key: key(slaKey(org)), ReturnValues: 'ALL_OLD' }),
  );
  return result.Attributes !== undefined;
}

export interface AuthzEntries {
  grants: { ou: string; grant: unknown }[];
  /** The CA registry by SPKI SHA-256; a CA with `revokedAt` is revoked. */
  issuers: Record<string, RegisteredIssuer>;
  revokedCertificates: {
    issuerKey: string | undefined;
    serialNumber: string;
    revokedAt: unknown;
    reason: unknown;
    subject: unknown;
  }[];
  /** The SLA policies stored per org, as stored; an org not listed has the defaults. */
  slaPolicies: { org: string; policy: unknown }[];
}

export async function listAuthz(client: DynamoDBClient, table: string): Promise<AuthzEntries> {
  const entries: AuthzEntries = { grants: [], issuers: {}, revokedCertificates: [], slaPolicies: [] };
  let startKey: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      const { [AUTHZ_KEY_ATTRIBUTE]: id, [AUTHZ_VALUE_ATTRIBUTE]: value } = unmarshall(item) as {
        Id: string;
        Value: Record<string, unknown> | undefined;
      };
      const revocation = { revokedAt: value?.revokedAt, reason: value?.reason, subject: value?.subject };
      if (id.startsWith('OU#')) entries.grants.push({ ou: id.slice(3), grant: value });
      else if (id === ISSUERS_KEY) entries.issuers = parseIssuers(value);
      else if (id.startsWith('REVOKED#')) {
        const [, issuerKey = '', serialNumber = ''] = id.split('#');
        entries.revokedCertificates.push({ issuerKey, serialNumber, ...revocation });
      } else if (id.startsWith('SERIAL#'))
        entries.revokedCertificates.push({ issuerKey: undefined, serialNumber: id.slice(7), ...revocation });
      else if (id.startsWith('SLA#')) entries.slaPolicies.push({ org: id.slice(4), policy: value });
    }
    startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (startKey);
  entries.grants.sort((a, b) => a.ou.localeCompare(b.ou));
  entries.slaPolicies.sort((a, b) => a.org.localeCompare(b.org));
  entries.revokedCertificates.sort((a, b) =>
    `${a.issuerKey}${a.serialNumber}`.localeCompare(`${b.issuerKey}${b.serialNumber}`),
  );
  return entries;
}
