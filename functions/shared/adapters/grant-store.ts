import { DynamoDBProvider } from '@aws-lambda-powertools/parameters/dynamodb';
import type { GrantStore } from '../core/authz-policy';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';
import { AUTHZ_KEY_ATTRIBUTE, AUTHZ_VALUE_ATTRIBUTE, grantKey, revocationKey } from '../core/authz-table';

/** Grants read through Powertools Parameters with a short cache: a revocation takes effect within `cacheSeconds`. */
export function dynamoDbGrantStore(tableName: string, cacheSeconds: number): GrantStore {
  const provider = new DynamoDBProvider({
    tableName,
    keyAttr: AUTHZ_KEY_ATTRIBUTE,
    valueAttr: AUTHZ_VALUE_ATTRIBUTE,
    awsSdkV3Client: dynamoDbClient,
  });
  const read = async (key: string): Promise<unknown> => {
    try {
      return await provider.get(key, { maxAge: cacheSeconds });
    } catch (error) {
      throw classifyAwsError(error);
    }
  };
  return {
    getGrant: (ou) => read(grantKey(ou)),
    isRevoked: async (serialNumber) => (await read(revocationKey(serialNumber))) !== undefined,
  };
}
export { AUTHZ_KEY_ATTRIBUTE, AUTHZ_VALUE_ATTRIBUTE, grantKey, revocationKey } from '../core/authz-table';
