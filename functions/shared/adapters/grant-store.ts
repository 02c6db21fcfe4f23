import { DynamoDBProvider } from '@aws-lambda-powertools/parameters/dynamodb';
import { rememberAbsence } from '../core/absence-cache';
import type { GrantStore } from '../core/authz-policy';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';
import {
  AUTHZ_KEY_ATTRIBUTE,
  AUTHZ_VALUE_ATTRIBUTE,
  ISSUERS_KEY,
  grantKey,
  legacyRevocationKey,
  revocationKey,
  slaKey,
} from '../core/authz-table';

/** The grant store, and the org SLA policies kept in the same table (raw: parsed by core/sla.ts). */
export interface AuthzStore extends GrantStore {
  getSlaPolicy(org: string): Promise<unknown>;
}

/**
 * Grants, the CA registry and revocations read through Powertools Parameters with a short cache:
 * a grant change or a revocation takes effect within `cacheSeconds` (GRANT_CACHE_SECONDS), absent
 * items included (a revocation written after a request found none). An org's SLA policy is read the same way
 * (absent: the defaults, also remembered), so a policy change takes effect within the same `cacheSeconds`.
 */
export function dynamoDbGrantStore(tableName: string, cacheSeconds: number): AuthzStore {
  const provider = new DynamoDBProvider({
    tableName,
    keyAttr: AUTHZ_KEY_ATTRIBUTE,
    valueAttr: AUTHZ_VALUE_ATTRIBUTE,
    awsSdkV3Client: dynamoDbClient,
  });
  const read = rememberAbsence(async (key: string): Promise<unknown> => {
    try {
      return await provider.get(key, { maxAge: cacheSeconds });
    } catch (error) {
      throw classifyAwsError(error);
    }
  }, cacheSeconds);
  return {
    getGrant: (ou) => read(grantKey(ou)),
    getIssuers: () => read(ISSUERS_KEY),
    getRevocation: (issuerKey, serialNumber) => read(revocationKey(issuerKey, serialNumber)),
    getLegacyRevocation: (serialNumber) => read(legacyRevocationKey(serialNumber)),
    // An org's SLA policy (core/sla.ts) lives next to the grants, read with the same cache.
    getSlaPolicy: (org) => read(slaKey(org)),
  };
}
