import { ProvisionedThroughputExceededException, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { getFindingsEvent } from '../../support/events';
import { decodePageToken, encodePageToken } from '../../../functions/shared/core/page-token';
import { dashboardCertificate } from '../../support/certificates';
import { REFERENCE_NORMALIZED } from '../../support/findings';
import {
  authzKeysRead,
  captureLogs,
  dynamoDb,
  mockAuthzTable,
  FINDINGS_TABLE,
  lambdaContext,
  PAGE_TOKEN_KEY,
  resetGetFindingsMocks,
  setHandlerEnvironment,
  type CapturedLogs,
} from '../../support/lambda';

setHandlerEnvironment();
let handler: typeof import('../../../functions/get-findings/handler').handler;
let logs: CapturedLogs;
let dashboardPem: string;
beforeAll(async () => {
  ({ handler } = await import('../../../functions/get-findings/handler'));
  dashboardPem = (await dashboardCertificate()).certPem;
});
beforeEach(() => {
  resetGetFindingsMocks();
  logs = captureLogs();
});
afterEach(() => logs.restore());

const context = lambdaContext('get-findings');
const STORED = { ...REFERENCE_NORMALIZED, FirstSeen: '2025-01-01T00:00:00.000Z', LastSeen: '2025-02-01T00:00:00.000Z' };
const REQUEST_ID = 'api-request-1';

const get = (query: Record<string, string | string[]>) =>
  handler(getFindingsEvent({ query, certPem: dashboardPem, requestId: REQUEST_ID }), context);

function mockQuery(pages: { items: Record<string, unknown>[]; lastVulnId?: string }[]) {
  let call = 0;
  dynamoDb.on(QueryCommand).callsFake(() => {
    const page = pages[Math.min(call, pages.length - 1)] ?? { items: [] };
    call += 1;
    return {
      Items: page.items.map((item) => marshall(item)),
      ...(page.lastVulnId === undefined
        ? {}
        : { LastEvaluatedKey: marshall({ Org: 'org1', VulnID: page.lastVulnId }) }),
    };
  });
}

/**
 * The default filter, flat (functions/shared/adapters/condition.ts), after the clauses in `prefix`: OPEN (not FIXED:
 * a finding stored before scan runs has no Status), and NEW (none stored, or an acceptance expired) or ACKNOWLEDGED.
 */
const actionable = (prefix = '') =>
  [
    'NOT #Workflow = :workflowACKNOWLEDGED AND NOT #Workflow = :workflowFALSE_POSITIVE AND NOT #Workflow = :workflowRISK_ACCEPTED',
    '#Workflow = :workflowRISK_ACCEPTED AND NOT #AcceptedUntil > :workflowNow',
    '#Workflow = :workflowACKNOWLEDGED',
  ]
    .map((workflow) => `${prefix}NOT #Status = :fixed AND ${workflow}`)
    .join(' OR ');

const queries = (): QueryCommandInput[] => dynamoDb.commandCalls(QueryCommand).map((call) => call.args[0].input);

describe('get-findings handler', () => {
  it('answers 200 with plain JSON items of the org', async () => {
    mockQuery([{ items: [STORED] }]);
    const response = await get({ org: 'org1' });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    // Each item with its effective workflow state, its Version (0: never written since versions exist) and its
    // SLA due time (null: UNKNOWN has no SLA).
    expect(JSON.parse(response.body)).toEqual({
      org: 'org1',
      items: [{ ...STORED, Workflow: 'NEW', Version: 0, SlaDueAt: null }],
      count: 1,
    });
    expect(queries()).toEqual([
      expect.objectContaining({
        TableName: FINDINGS_TABLE,
        KeyConditionExpression: '#Org = :org',
        // OPEN by default; a finding stored before scan runs has no Status and counts as OPEN. And what there is
        // to fix: NEW (none stored, or an acceptance expired) or ACKNOWLEDGED.
        FilterExpression: actionable(),
        Limit: 50,
        ExclusiveStartKey: undefined,
      }),
    ]);
  });

  it('gives a nextToken bound to the org when more items follow, and resumes from it', async () => {
    mockQuery([{ items: [STORED], lastVulnId: 'testID3' }]);
    const first = JSON.parse((await get({ org: 'org1', limit: '1' })).body) as { nextToken: string; count: number };
    expect(first.count).toBe(1);
    expect(decodePageToken(PAGE_TOKEN_KEY, first.nextToken, 'org1')).toBe('testID3');

    dynamoDb.resetHistory();
    mockQuery([{ items: [] }]);
    const second = await get({ org: 'org1', limit: '1', nextToken: first.nextToken });
    expect(JSON.parse(second.body)).toEqual({ org: 'org1', items: [], count: 0 });
    expect(unmarshall(queries()[0]?.ExclusiveStartKey ?? {})).toEqual({ Org: 'org1', VulnID: 'testID3' });
  });

  it('filters by severity', async () => {
    mockQuery([{ items: [] }]);
    await get({ org: 'org1', severity: 'HIGH' });
    expect(queries()[0]).toMatchObject({
      FilterExpression: actionable('#Severity IN (:severity0) AND '),
    });
  });

  it('filters by minimum severity, asset and CVE together', async () => {
    mockQuery([{ items: [] }]);
    await get({ org: 'org1', minSeverity: 'HIGH', asset: 'Web-1', cve: 'CVE-2021-44228' });
    expect(queries()[0]).toMatchObject({
      FilterExpression: actionable(
        '#Severity IN (:severity0, :severity1) AND #AssetName = :asset AND contains(#Cves, :cve) AND ',
      ),
      ExpressionAttributeNames: {
        '#Org': 'Org',
        '#Severity': 'Severity',
        '#AssetName': 'AssetName',
        '#Cves': 'Cves',
        '#Status': 'Status',
        '#Workflow': 'Workflow',
        '#AcceptedUntil': 'AcceptedUntil',
      },
    });
  });

  it('filters by package name exactly and by known exploit (absent counts as false)', async () => {
    mockQuery([{ items: [] }]);
    await get({ org: 'org1', package: 'openssl', knownExploit: 'true', status: 'ALL', workflow: 'ALL' });
    expect(queries()[0]).toMatchObject({
      FilterExpression: '#PackageName = :packageName AND #KnownExploit = :knownExploit',
      ExpressionAttributeNames: { '#Org': 'Org', '#PackageName': 'PackageName', '#KnownExploit': 'KnownExploit' },
      ExpressionAttributeValues: marshall({ ':org': 'org1', ':packageName': 'openssl', ':knownExploit': true }),
    });
    dynamoDb.resetHistory();
    mockQuery([{ items: [] }]);
    await get({ org: 'org1', knownExploit: 'false', status: 'ALL', workflow: 'ALL' });
    expect(queries()[0]?.FilterExpression).toBe('NOT #KnownExploit = :knownExploit');
  });

  it('answers 400 naming knownExploit when it is neither true nor false', async () => {
    const response = await get({ org: 'org1', knownExploit: 'yes' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('"path":"knownExploit"');
  });

  it('lists FIXED findings with status=FIXED, and everything with status=ALL', async () => {
    mockQuery([{ items: [] }]);
    await get({ org: 'org1', status: 'FIXED', workflow: 'ALL' });
    expect(queries()[0]).toMatchObject({
      FilterExpression: '#Status = :fixed',
      ExpressionAttributeValues: marshall({ ':org': 'org1', ':fixed': 'FIXED' }),
    });
    dynamoDb.resetHistory();
    mockQuery([{ items: [] }]);
    // Everything: status=ALL and workflow=ALL.
    await get({ org: 'org1', status: 'ALL', workflow: 'ALL' });
    expect(queries()[0]?.FilterExpression).toBeUndefined();
  });

  describe('SLA due times and overdue=', () => {
    const HIGH = { ...STORED, VulnID: 'high-1', Severity: 'HIGH' };
    const CRITICAL = { ...STORED, VulnID: 'critical-1', Severity: 'CRITICAL' };
    const INFO = { ...STORED, VulnID: 'info-1', Severity: 'INFO' };
    const DAY_MS = 24 * 60 * 60 * 1000;
    const grants = { dashboard: { methods: ['GET'], orgs: ['org1'] } };

    it('answers each finding with FirstSeen + its severity days under the default policy when the org has none', async () => {
      mockQuery([{ items: [HIGH, CRITICAL, INFO] }]);
      const body = JSON.parse((await get({ org: 'org1' })).body) as { items: Record<string, unknown>[] };
      expect(body.items.map((item) => [item.VulnID, item.SlaDueAt, item.DueDate])).toEqual([
        ['high-1', '2025-01-31T00:00:00.000Z', STORED.DueDate],
        ['critical-1', '2025-01-16T00:00:00.000Z', STORED.DueDate],
        ['info-1', null, STORED.DueDate],
      ]);
    });

    it("answers due times under the org's stored policy, read from SLA#<org> in the authz table", async () => {
      mockAuthzTable({ grants, slaPolicies: { org1: { CRITICAL: 7, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: 365 } } });
      mockQuery([{ items: [CRITICAL, INFO] }]);
      const body = JSON.parse((await get({ org: 'org1' })).body) as { items: Record<string, unknown>[] };
      expect(body.items.map((item) => item.SlaDueAt)).toEqual(['2025-01-08T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
      expect(authzKeysRead()).toContain('SLA#org1');
    });

    it('overdue=true asks for FirstSeen before now minus the days, one clause per severity with an SLA', async () => {
      mockQuery([{ items: [] }]);
      const before = Date.now();
      await get({ org: 'org1', overdue: 'true', status: 'ALL', workflow: 'ALL' });
      const query = queries()[0];
      expect(query?.FilterExpression).toBe(
        '#Severity = :overdueSeverity0 AND #FirstSeen < :overdueBefore0 OR #Severity = :overdueSeverity1 AND #FirstSeen < :overdueBefore1 OR #Severity = :overdueSeverity2 AND #FirstSeen < :overdueBefore2 OR #Severity = :overdueSeverity3 AND #FirstSeen < :overdueBefore3',
      );
      const values = unmarshall(query?.ExpressionAttributeValues ?? {});
      expect([0, 1, 2, 3].map((index) => values[`:overdueSeverity${index}`])).toEqual([
        'CRITICAL',
        'HIGH',
        'MEDIUM',
        'LOW',
      ]);
      // CRITICAL: 15 days before the request's time.
      const cutoff = Date.parse(String(values[':overdueBefore0']));
      expect(cutoff).toBeGreaterThanOrEqual(before - 15 * DAY_MS);
      expect(cutoff).toBeLessThanOrEqual(Date.now() - 15 * DAY_MS);
    });

    it('overdue=true combines with the default filter and severity=, and overdue=false asks for the others', async () => {
      mockQuery([{ items: [] }]);
      await get({ org: 'org1', overdue: 'true', severity: 'HIGH' });
      expect(queries()[0]?.FilterExpression).toBe(
        actionable('#Severity IN (:severity0) AND ')
          .split(' OR ')
          .map((conjunction) => `${conjunction} AND #Severity = :overdueSeverity0 AND #FirstSeen < :overdueBefore0`)
          .join(' OR '),
      );
      dynamoDb.resetHistory();
      mockQuery([{ items: [] }]);
      await get({ org: 'org1', overdue: 'false', severity: 'HIGH', status: 'ALL', workflow: 'ALL' });
      expect(queries()[0]?.FilterExpression).toBe(
        // Not overdue: a severity without an SLA, or its own severity first seen at or after the cutoff.
        '#Severity IN (:severity0) AND NOT #Severity IN (:overdueSeverity0) OR #Severity IN (:severity0) AND #Severity = :overdueSeverity0 AND NOT #FirstSeen < :overdueBefore0',
      );
    });

    it('overdue=true reads nothing when no asked severity has an SLA', async () => {
      mockAuthzTable({
        grants,
        slaPolicies: { org1: { CRITICAL: null, HIGH: null, MEDIUM: 90, LOW: 180, INFO: null } },
      });
      const response = await get({ org: 'org1', overdue: 'true', minSeverity: 'HIGH' });
      expect(JSON.parse(response.body)).toEqual({ org: 'org1', items: [], count: 0 });
      expect(queries()).toEqual([]);
    });

    it('answers 400 naming overdue when it is neither true nor false', async () => {
      const response = await get({ org: 'org1', overdue: 'yes' });
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        message: 'Invalid request',
        errors: [{ index: null, path: 'overdue', message: 'must be true or false' }],
        requestId: REQUEST_ID,
      });
      expect(queries()).toEqual([]);
    });

    it('answers 500 for a stored policy that breaks the schema, and logs which org', async () => {
      mockAuthzTable({ grants, slaPolicies: { org1: { CRITICAL: 1.5, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: null } } });
      const response = await get({ org: 'org1' });
      expect(response.statusCode).toBe(500);
      expect(response.body).toBe(JSON.stringify({ message: 'Internal server error', requestId: REQUEST_ID }));
      expect(JSON.stringify(logs.lines())).toContain('the stored SLA policy of org org1 is not valid');
      expect(queries()).toEqual([]);
    });
  });

  it('answers 400 with the issues and request id when org is missing', async () => {
    const response = await get({});
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      message: 'Invalid request',
      errors: [{ index: null, path: 'org', message: 'is required' }],
      requestId: REQUEST_ID,
    });
    expect(queries()).toEqual([]);
  });

  it('answers 400 for a repeated parameter', async () => {
    const response = await get({ org: ['org1', 'org2'] });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      errors: [{ index: null, path: 'org', message: 'must be given once' }],
    });
  });

  it('answers 403 with exactly Forbidden and the request id for an org the OU is not granted, and queries nothing', async () => {
    const response = await get({ org: 'org2' });
    expect(response.statusCode).toBe(403);
    expect(response.body).toBe(JSON.stringify({ message: 'Forbidden', requestId: REQUEST_ID }));
    expect(queries()).toEqual([]);
    const decisions = logs.lines().filter((line) => line.message === 'authorization decision');
    expect(decisions).toEqual([
      expect.objectContaining({
        decision: 'DENY',
        reason: 'org-not-granted',
        action: 'GET',
        orgs: ['org2'],
        requestId: REQUEST_ID,
      }),
    ]);
    expect(logs.text()).not.toContain('BEGIN CERTIFICATE');
  });

  it('answers 403 without a client certificate', async () => {
    const response = await handler(getFindingsEvent({ query: { org: 'org1' }, requestId: REQUEST_ID }), context);
    expect(response.statusCode).toBe(403);
    expect(response.body).toBe(JSON.stringify({ message: 'Forbidden', requestId: REQUEST_ID }));
    expect(logs.lines().filter((line) => line.message === 'authorization decision')).toEqual([
      expect.objectContaining({ reason: 'no-certificate' }),
    ]);
  });

  it('answers 400 for a tampered nextToken, and one from another org', async () => {
    const token = encodePageToken(PAGE_TOKEN_KEY, 'org1', 'testID3');
    const tampered = await get({ org: 'org1', nextToken: `${token.slice(0, -2)}xx` });
    const foreign = await get({ org: 'org1', nextToken: encodePageToken(PAGE_TOKEN_KEY, 'org2', 'testID3') });
    for (const response of [tampered, foreign]) {
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        message: 'Invalid request',
        errors: [{ index: null, path: 'nextToken', message: 'is not a valid page token for this org' }],
        requestId: REQUEST_ID,
      });
    }
    expect(queries()).toEqual([]);
  });

  it('answers 500 with the request id and nothing of the failure', async () => {
    dynamoDb.on(QueryCommand).rejects(new Error('socket hang up at /var/task/index.js:42'));
    const response = await get({ org: 'org1' });
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe(JSON.stringify({ message: 'Internal server error', requestId: REQUEST_ID }));
    expect(logs.lines().filter((line) => line.message === 'request failed')).toEqual([
      expect.objectContaining({ level: 'ERROR', requestId: REQUEST_ID }),
    ]);
  });

  it('answers 503 when the findings table is throttled', async () => {
    dynamoDb
      .on(QueryCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }),
      );
    const response = await get({ org: 'org1' });
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ message: 'Service temporarily unavailable', requestId: REQUEST_ID });
  });
});
