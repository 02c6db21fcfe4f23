import {
  ConditionalCheckFailedException,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { triageFindingsEvent } from '../../support/events';
import { dashboardCertificate } from '../../support/certificates';
import { REFERENCE_NORMALIZED } from '../../support/findings';
import {
  captureLogs,
  dynamoDb,
  FINDINGS_TABLE,
  lambdaContext,
  mockAuthzTable,
  setHandlerEnvironment,
  type CapturedLogs,
} from '../../support/lambda';

setHandlerEnvironment();
let handler: typeof import('../../../functions/triage-findings/handler').handler;
let logs: CapturedLogs;
let dashboardPem: string;
beforeAll(async () => {
  ({ handler } = await import('../../../functions/triage-findings/handler'));
  dashboardPem = (await dashboardCertificate()).certPem;
});
beforeEach(() => {
  dynamoDb.reset();
  mockAuthzTable({ grants: { dashboard: { methods: ['GET', 'TRIAGE'], orgs: ['org1'] } } });
  logs = captureLogs();
});
afterEach(() => logs.restore());

const context = lambdaContext('triage-findings');
const STORED = { ...REFERENCE_NORMALIZED, FirstSeen: '2025-01-01T00:00:00.000Z', LastSeen: '2025-02-01T00:00:00.000Z' };
const triage = (body: unknown) => handler(triageFindingsEvent(dashboardPem, body), context);
const updates = (): UpdateItemCommandInput[] =>
  dynamoDb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);

describe('triage-findings handler', () => {
  it('writes each update as one conditional UpdateItem of only the people-owned fields, and logs no note', async () => {
    dynamoDb.on(UpdateItemCommand).resolves({ Attributes: marshall({ ...STORED, Version: 2 }) });
    const response = await triage({
      org: 'org1',
      updates: [{ vulnId: 'testID3', workflow: 'ACKNOWLEDGED', note: 'secret plan', expectedVersion: 2 }],
    });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      processed: [{ index: 0, vulnId: 'testID3', workflow: 'ACKNOWLEDGED', version: 3 }],
      unprocessed: [],
    });
    const [update] = updates();
    expect(update).toMatchObject({
      TableName: FINDINGS_TABLE,
      Key: marshall({ Org: 'org1', VulnID: 'testID3' }),
      ConditionExpression: 'attribute_exists(#VulnID) AND #Version = :expectedVersion',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(Object.values(update?.ExpressionAttributeNames ?? {}).sort()).toEqual([
      'AcceptedUntil',
      'Justification',
      'Note',
      'TriagedAt',
      'TriagedBy',
      'Version',
      'VulnID',
      'Workflow',
    ]);
    expect(unmarshall(update?.ExpressionAttributeValues ?? {})).toMatchObject({
      ':workflow': 'ACKNOWLEDGED',
      ':note': 'secret plan',
      ':actor': { subject: 'CN=dashboard-01, OU=dashboard, O=Example Corp' },
    });
    expect(JSON.stringify(logs.lines())).not.toContain('secret plan');
  });

  it('answers NotFound and ConflictError from the item the refusal carries, and ServiceUnavailable for a throttled item, each alone', async () => {
    dynamoDb.on(GetItemCommand, { TableName: FINDINGS_TABLE }).resolves({});
    dynamoDb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
      const vulnId = input.Key?.VulnID?.S;
      if (vulnId === 'missing' || vulnId === 'gone')
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      if (vulnId === 'moved')
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
          Item: marshall({ ...STORED, VulnID: 'moved', Version: 5 }),
        });
      if (vulnId === 'busy') throw new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
      return { Attributes: marshall({ ...STORED, VulnID: vulnId }) };
    });
    const response = await triage({
      org: 'org1',
      updates: [
        { vulnId: 'missing', workflow: 'NEW' },
        { vulnId: 'gone', workflow: 'ACKNOWLEDGED', expectedVersion: 1 },
        { vulnId: 'moved', workflow: 'NEW', expectedVersion: 4 },
        { vulnId: 'busy', workflow: 'NEW' },
        { vulnId: 'fine', workflow: 'FALSE_POSITIVE' },
      ],
    });
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { processed: unknown[]; unprocessed: { code: string }[] };
    expect(body.processed).toEqual([{ index: 4, vulnId: 'fine', workflow: 'FALSE_POSITIVE', version: 1 }]);
    expect(body.unprocessed.map((item) => item.code)).toEqual([
      'NotFound',
      'NotFound',
      'ConflictError',
      'ServiceUnavailable',
    ]);
    // Only the refusal without an item, of an update naming a version, needed a read to tell.
    expect(
      dynamoDb.commandCalls(GetItemCommand).filter((call) => call.args[0].input.TableName === FINDINGS_TABLE),
    ).toHaveLength(1);
  });

  it('refuses a certificate without TRIAGE on the org before writing anything (403)', async () => {
    mockAuthzTable({ grants: { dashboard: { methods: ['GET', 'POST'], orgs: ['org1'] } } });
    const response = await triage({ org: 'org1', updates: [{ vulnId: 'testID3', workflow: 'NEW' }] });
    expect(response.statusCode).toBe(403);
    expect(updates()).toEqual([]);
  });

  it('answers 400 for a body that is not JSON, naming nothing the client sent', async () => {
    const event = triageFindingsEvent(dashboardPem);
    const response = await handler({ ...event, body: '{"org": <script>' }, context);
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain('script');
    expect(updates()).toEqual([]);
  });
});
