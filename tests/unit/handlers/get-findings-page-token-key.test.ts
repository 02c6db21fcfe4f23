import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { marshall } from '@aws-sdk/util-dynamodb';
import { getFindingsEvent } from '../../support/events';
import { dashboardCertificate } from '../../support/certificates';
import { REFERENCE_NORMALIZED } from '../../support/findings';
import {
  dynamoDb,
  lambdaContext,
  resetGetFindingsMocks,
  secretsManager,
  setHandlerEnvironment,
} from '../../support/lambda';

/**
 * The page-token secret is read (and Secrets Manager's client loaded) only when a token is read or signed, so a
 * single page costs no Secrets Manager call and the function's init does not build that client (docs/performance.md).
 * Its own file: the handler module is fresh, nothing read before the first request.
 */
setHandlerEnvironment();
let handler: typeof import('../../../functions/get-findings/handler').handler;
let dashboardPem: string;
beforeAll(async () => {
  ({ handler } = await import('../../../functions/get-findings/handler'));
  dashboardPem = (await dashboardCertificate()).certPem;
});
beforeEach(() => resetGetFindingsMocks());

const get = (query: Record<string, string>) =>
  handler(
    getFindingsEvent({ query, certPem: dashboardPem, requestId: 'api-request-1' }),
    lambdaContext('get-findings'),
  );
const secretReads = () => secretsManager.commandCalls(GetSecretValueCommand).length;
const item = { ...REFERENCE_NORMALIZED, FirstSeen: '2025-01-01T00:00:00.000Z', LastSeen: '2025-02-01T00:00:00.000Z' };

it('reads no secret for a page with no token in or out, and reads it to sign the next one', async () => {
  dynamoDb.on(QueryCommand).resolves({ Items: [marshall(item)] });
  const single = await get({ org: 'org1' });
  expect(single.statusCode).toBe(200);
  expect(JSON.parse(single.body)).not.toHaveProperty('nextToken');
  expect(secretReads()).toBe(0);

  dynamoDb
    .on(QueryCommand)
    .resolves({ Items: [marshall(item)], LastEvaluatedKey: marshall({ Org: 'org1', VulnID: 'x' }) });
  const first = await get({ org: 'org1', limit: '1' });
  expect(JSON.parse(first.body)).toHaveProperty('nextToken');
  expect(secretReads()).toBe(1);
});
