import { GetItemCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { getFindingsEvent } from '../../support/events';
import { encodePageToken } from '../../../functions/shared/core/page-token';
import { dashboardCertificate } from '../../support/certificates';
import {
  captureLogs,
  dynamoDb,
  lambdaContext,
  mockAuthzTable,
  PAGE_TOKEN_KEY,
  resetGetFindingsMocks,
  setHandlerEnvironment,
  type CapturedLogs,
} from '../../support/lambda';

setHandlerEnvironment();
Object.assign(process.env, { HISTORY_TABLE_NAME: 'history-test', SUMMARY_TABLE_NAME: 'summary-test' });
let history: typeof import('../../../functions/get-finding-history/handler').handler;
let summary: typeof import('../../../functions/get-org-summary/handler').handler;
let logs: CapturedLogs;
let dashboardPem: string;
beforeAll(async () => {
  ({ handler: history } = await import('../../../functions/get-finding-history/handler'));
  ({ handler: summary } = await import('../../../functions/get-org-summary/handler'));
  dashboardPem = (await dashboardCertificate()).certPem;
});
beforeEach(() => {
  resetGetFindingsMocks();
  logs = captureLogs();
});
afterEach(() => logs.restore());

const SEQ = '0'.repeat(39) + '7';
const ENTRY = { Finding: 'org1#testID3', Seq: SEQ, Org: 'org1', VulnID: 'testID3', Kind: 'created', ExpiresAt: 1 };
const event = (path: string, query: Record<string, string>) =>
  getFindingsEvent({ query, certPem: dashboardPem, resource: path, path, requestId: 'api-request-1' });
const queries = (): QueryCommandInput[] => dynamoDb.commandCalls(QueryCommand).map((call) => call.args[0].input);

describe('GET /vuln/history', () => {
  it("answers a page of the finding's entries, newest first, without table keys, and a token bound to the finding", async () => {
    dynamoDb
      .on(QueryCommand)
      .resolves({ Items: [marshall(ENTRY)], LastEvaluatedKey: marshall({ Finding: 'org1#testID3', Seq: SEQ }) });
    const response = await history(
      event('/vuln/history', { org: 'org1', vulnId: 'testID3', limit: '1' }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { items: Record<string, unknown>[]; nextToken: string };
    expect(body.items).toEqual([{ Seq: SEQ, Org: 'org1', VulnID: 'testID3', Kind: 'created' }]);
    expect(queries()[0]).toMatchObject({ ScanIndexForward: false, Limit: 1 });
    // The token resumes that finding's history only: another finding's, or GET /vuln's, is refused before any read.
    dynamoDb.resetHistory();
    const other = await history(
      event('/vuln/history', { org: 'org1', vulnId: 'other', nextToken: body.nextToken }),
      lambdaContext(),
    );
    expect(other.statusCode).toBe(400);
    const listing = await history(
      event('/vuln/history', {
        org: 'org1',
        vulnId: 'testID3',
        nextToken: encodePageToken(PAGE_TOKEN_KEY, 'org1', SEQ),
      }),
      lambdaContext(),
    );
    expect(listing.statusCode).toBe(400);
    expect(queries()).toHaveLength(0);
  });

  it('is 403 for an org the certificate may not read, before any read of the history', async () => {
    mockAuthzTable({ grants: { dashboard: { methods: ['GET'], orgs: ['org2'] } } });
    const response = await history(event('/vuln/history', { org: 'org1', vulnId: 'testID3' }), lambdaContext());
    expect(response.statusCode).toBe(403);
    expect(queries()).toHaveLength(0);
  });

  it('names vulnId when it is missing', async () => {
    const response = await history(event('/vuln/history', { org: 'org1' }), lambdaContext());
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).errors).toEqual([expect.objectContaining({ path: 'vulnId' })]);
  });
});

describe('GET /vuln/summary', () => {
  it("reads the org's one item and its SLA policy, and is 403 for another org", async () => {
    dynamoDb
      .on(GetItemCommand, { TableName: 'summary-test' })
      .resolves({ Item: marshall({ Org: 'org1', Seq: SEQ, Changed: '2026-01-01T00:00:00.000Z', cOHN: 2 }) });
    const response = await summary(event('/vuln/summary', { org: 'org1' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as {
      counts: { OPEN: { HIGH: { NEW: number } } };
      lastChanged: string;
      slaDays: unknown;
    };
    expect(body.counts.OPEN.HIGH.NEW).toBe(2);
    expect(body.lastChanged).toBe('2026-01-01T00:00:00.000Z');
    expect(body.slaDays).toMatchObject({ CRITICAL: 15, HIGH: 30 });
    const keys = dynamoDb.commandCalls(GetItemCommand).map((call) => call.args[0].input.Key);
    expect(keys).toContainEqual(marshall({ Id: 'SLA#org1' }));
    mockAuthzTable({ grants: { dashboard: { methods: ['GET'], orgs: ['org2'] } } });
    expect((await summary(event('/vuln/summary', { org: 'org1' }), lambdaContext())).statusCode).toBe(403);
  });
});
