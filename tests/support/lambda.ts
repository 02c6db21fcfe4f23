import { DynamoDBClient, GetItemCommand, type GetItemCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ISSUERS_KEY, grantKey, revocationKey, slaKey } from '../../functions/shared/core/authz-table';

/**
 * What handler tests share: the environment the handlers read at module load, a Lambda context,
 * the DynamoDB client mocked, the authz table's items, and the log lines the handlers write.
 *
 * Handlers read their environment when first imported, so a test file calls
 * `setHandlerEnvironment()` at its top and imports the handler afterwards (`await import(...)`).
 */
export const FINDINGS_TABLE = 'findings-test';
export const AUTHZ_TABLE = 'authz-test';
export const SCAN_RUNS_TABLE = 'scan-runs-test';
export const PAGE_TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:page-token-AbCdEf';
/** The page-token MAC key the mocked Secrets Manager serves. */
export const PAGE_TOKEN_KEY = 'unit-test-page-token-key-0123456789abcdefghijklmnopqrstuvwxyz';

export function setHandlerEnvironment(): void {
  Object.assign(process.env, {
    FINDINGS_TABLE_NAME: FINDINGS_TABLE,
    AUTHZ_TABLE_NAME: AUTHZ_TABLE,
    SCAN_RUNS_TABLE_NAME: SCAN_RUNS_TABLE,
    IDEMPOTENCY_TABLE_NAME: SCAN_RUNS_TABLE,
    GRANT_CACHE_SECONDS: '0',
    PAGE_TOKEN_SECRET_ARN,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_SERVICE_NAME: 'vulnerability-api',
  });
  // Dev mode would pretty-print over several lines and write through jest's console.
  delete process.env.POWERTOOLS_DEV;
}

export function lambdaContext(functionName = 'test-function', awsRequestId = 'lambda-request-1'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The DynamoDB client every adapter uses, mocked for the whole test file. */
export const dynamoDb = mockClient(DynamoDBClient);

/** Secrets Manager, serving PAGE_TOKEN_KEY for PAGE_TOKEN_SECRET_ARN (call again after a reset). */
export const secretsManager = mockClient(SecretsManagerClient);
export function mockPageTokenSecret(): void {
  secretsManager
    .on(GetSecretValueCommand, { SecretId: PAGE_TOKEN_SECRET_ARN })
    .resolves({ ARN: PAGE_TOKEN_SECRET_ARN, SecretString: PAGE_TOKEN_KEY });
}

/** Fresh mocks for a GET-function test: the page-token secret, and a dashboard grant on org1. */
export function resetGetFindingsMocks(): void {
  dynamoDb.reset();
  secretsManager.reset();
  mockPageTokenSecret();
  mockAuthzTable({ grants: { dashboard: { methods: ['GET'], orgs: ['org1'] } } });
}

export interface AuthzItems {
  /** Grant per OU, stored as is (invalid grants included). */
  grants?: Record<string, unknown>;
  /** The CA registry item's value, stored as is. */
  issuers?: Record<string, unknown>;
  /** Revoked certificates: issuer SPKI SHA-256 and normalized serial. */
  revoked?: { issuerKey: string; serialNumber: string }[];
  /** SLA policy per org, stored as is. */
  slaPolicies?: Record<string, unknown>;
}

/** Answers GetItem on the authz table from `items`, the way Powertools Parameters reads it. */
export function mockAuthzTable(items: AuthzItems): void {
  const values = new Map<string, unknown>([
    ...Object.entries(items.grants ?? {}).map(([ou, grant]) => [grantKey(ou), grant] as const),
    ...(items.revoked ?? []).map(
      ({ issuerKey, serialNumber }) =>
        [
          revocationKey(issuerKey, serialNumber),
          { revokedAt: '2025-01-01T00:00:00.000Z', reason: 'key-compromise' },
        ] as const,
    ),
    ...(items.issuers ? [[ISSUERS_KEY, items.issuers] as const] : []),
    ...Object.entries(items.slaPolicies ?? {}).map(([org, policy]) => [slaKey(org), policy] as const),
  ]);
  dynamoDb.on(GetItemCommand, { TableName: AUTHZ_TABLE }).callsFake((input: GetItemCommandInput) => {
    const id = input.Key?.Id?.S ?? '';
    return values.has(id) ? { Item: marshall({ Id: id, Value: values.get(id) }) } : {};
  });
}

/** The keys GetItem was asked for on the authz table, in order. */
export function authzKeysRead(): string[] {
  return dynamoDb.commandCalls(GetItemCommand).map((call) => call.args[0].input.Key?.Id?.S ?? '');
}

export interface CapturedLogs {
  /** Every JSON line written to stdout and stderr. */
  lines(): Record<string, unknown>[];
  /** Everything written, as text. */
  text(): string;
  restore(): void;
}

/** Captures what the Powertools logger writes (JSON lines on stdout, warnings and errors on stderr). */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  const text = () => chunks.join('');
  return {
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}
