/**
 * IAM in the local stack (local/iam): with enforcement on, every route and every function, in both network
 * modes (EnableVpc off and on), is exercised and no call is refused anywhere (DynamoDB's own process, Secrets
 * Manager, Step Functions, Lambda invokes, the gateway's integrations); an unknown key is refused and recorded,
 * which shows the record is live. Then one statement removed from a copy of the template (a role, the
 * boundary, the DynamoDB endpoint policy) makes the matching request fail end to end, as it would on AWS.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { ScanRunClient } from '../../client/push/scan-run';
import { inlineNestedApplications } from '../../local/cloudformation/nested-stacks';
import { loadTemplate, PROJECT_ROOT, type CfnTemplate } from '../../local/cloudformation/template';
import { LOCAL_REGION } from '../../local/aws-local';
import { findingEventsEvent } from '../support/events';
import { findingBatch } from '../support/findings';
import { allFindings, startTestStack, type TestStack } from '../support/local-stack';

const VPC = { EnableVpc: 'true', DynamoDbPrefixListId: 'pl-0123456789abcdef0' };
const RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };
const WAIT = { maxPolls: 200, intervalMs: 25 };
const ORG = 'org1';
const FUNCTIONS = [
  'ValidateFunction',
  'NormalizeFunction',
  'AuthorizeFunction',
  'WriteFunction',
  'GetFindingsFunction',
  'ScanRunsFunction',
  'CloseRunFunction',
  'GetScanRunFunction',
  'TriageFindingsFunction',
  'FindingEventsFunction',
  'GetFindingHistoryFunction',
  'GetOrgSummaryFunction',
];

const runs = (stack: TestStack) =>
  new ScanRunClient({ url: stack.url, identity: stack.pki.scanner, caPem: stack.pki.ca.certPem, retry: RETRY });
const iamOf = (stack: TestStack) => {
  const iam = stack.stack.backend.iam;
  if (!iam) throw new Error('the test stack does not enforce IAM');
  return iam;
};

/**
 * Every route, and through them every function: ingest, a paged GET, a triage, a run (open, batches twice,
 * complete, receipt), the stream consumer, a finding's history (paged) and the org summary.
 */
async function exercise(stack: TestStack): Promise<void> {
  const posted = await stack.request(stack.pki.scanner, {
    method: 'POST',
    path: '/vuln',
    body: { findings: findingBatch(3, { Org: ORG }) },
  });
  expect([posted.status, posted.body]).toEqual([200, expect.any(String)]);
  // Pages of one: every page reads the page-token key and carries a nextToken.
  expect((await allFindings(stack, stack.pki.dashboard, `org=${ORG}&limit=1`)).length).toBeGreaterThanOrEqual(3);
  await putGrant(stack.dynamoDb, stack.tables.AuthzTable, 'triage', { methods: ['GET', 'TRIAGE'], orgs: [ORG] });
  const triager = await stack.ca.issue({ subject: 'CN=triager-01, OU=triage, O=Example Corp', kind: 'client' });
  const triaged = await stack.request(triager, {
    method: 'POST',
    path: '/vuln/triage',
    body: { org: ORG, updates: [{ vulnId: 'vuln-0', workflow: 'ACKNOWLEDGED' }] },
  });
  expect([triaged.status, triaged.body]).toEqual([200, expect.stringContaining('"processed":[{')]);
  const run = await runs(stack).open({ org: ORG, scanner: 'nessus', scannedAt: new Date().toISOString() });
  const batch = {
    runId: run.runId,
    findings: findingBatch(2, { Org: ORG, VulnID: undefined as never }).map((f, i) => ({ ...f, VulnID: `run-${i}` })),
  };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    // The second is answered from Powertools Idempotency's record (read, and written by the first).
    const answer = await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body: batch });
    expect([answer.status, answer.body]).toEqual([200, expect.stringContaining('"created":2')]);
  }
  await runs(stack).complete(run.runId);
  expect((await runs(stack).waitForClosed(run.runId, ORG, WAIT)).state).toBe('closed');
  const receipt = await stack.request(stack.pki.dashboard, { path: `/scans/${run.runId}?org=${ORG}` });
  expect(receipt.status).toBe(200);
  // The stream consumer under its own role (a stream batch as Lambda delivers it: until the local stack's stream
  // emulation delivers the findings table's own, the example batch), then the history and the summary.
  const recorded = await stack.stack.backend.functions.invoke('FindingEventsFunction', findingEventsEvent());
  expect(recorded).toEqual({ batchItemFailures: [] });
  const history = await stack.request(stack.pki.dashboard, { path: `/vuln/history?org=${ORG}&vulnId=testID3&limit=1` });
  expect([history.status, history.body]).toEqual([200, expect.stringContaining('"nextToken"')]);
  const summary = await stack.request(stack.pki.dashboard, { path: `/vuln/summary?org=${ORG}` });
  expect(summary.status).toBe(200);
}

describe.each([
  ['EnableVpc=false', {}],
  ['EnableVpc=true', VPC],
])('with IAM enforced (%s)', (_mode, parameterOverrides: Record<string, string>) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ parameterOverrides });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('serves every route and runs every function without a single refused call', async () => {
    expect(iamOf(stack).gate.stack.vpc === undefined).toBe(parameterOverrides.EnableVpc === undefined);
    await exercise(stack);
    const stats = stack.stack.backend.functions.stats();
    expect(FUNCTIONS.filter((name) => !(stats[name]?.coldStarts ?? 0))).toEqual([]);
    expect(iamOf(stack).denials).toEqual([]);
    // Twelve functions cold-started on a shared machine: more than the default minute when it is busy.
  }, 180_000);

  it('refuses and records a call signed with a key that names nobody', async () => {
    const stranger = new DynamoDBClient({
      endpoint: stack.stack.backend.dynamoDbEndpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    try {
      await expect(
        stranger.send(new GetItemCommand({ TableName: stack.tables.AuthzTable, Key: { Id: { S: 'x' } } })),
      ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    } finally {
      stranger.destroy();
    }
    // The DynamoDB-API server's process reports its denials to this one.
    for (let wait = 0; wait < 100 && iamOf(stack).denials.length === 0; wait += 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(iamOf(stack).denials).toEqual([
      expect.objectContaining({ service: 'dynamodb', caller: 'access key AKIASTRANGER', verdict: 'denied' }),
    ]);
  });
});

// ------------------------------------------------------------------ one statement removed

type Statement = { Sid?: string; Action?: string | string[]; Resource?: unknown };
const deployed = (): CfnTemplate => inlineNestedApplications(loadTemplate(), PROJECT_ROOT);
function without(statements: Statement[], matches: (statement: Statement) => boolean): Statement[] {
  const kept = statements.filter((statement) => !matches(statement));
  if (kept.length !== statements.length - 1) throw new Error('expected to remove exactly one statement');
  return kept;
}
const policy = (template: CfnTemplate, id: string) =>
  (template.Resources[id]?.Properties as { PolicyDocument: unknown }).PolicyDocument;

describe('one statement removed from a copy of the template', () => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("from a role (GetScanRunFunctionRole's read of the runs table): GET /scans/{runId} answers 500", async () => {
    const template = deployed();
    const role = template.Resources.GetScanRunFunctionRole?.Properties as {
      Policies: { PolicyName: string; PolicyDocument: { Statement: Statement[] } }[];
    };
    const reads = role.Policies.find((entry) => entry.PolicyName === 'read-runs-and-grants')?.PolicyDocument;
    if (!reads) throw new Error('GetScanRunFunctionRole has no read-runs-and-grants policy');
    reads.Statement = without(reads.Statement, (s) => JSON.stringify(s.Resource).includes('ScanRunsTable'));
    stack = await startTestStack({ iamTemplate: template });
    const run = await runs(stack).open({ org: ORG, scanner: 'nessus', scannedAt: new Date().toISOString() });
    const answer = await stack.request(stack.pki.dashboard, { path: `/scans/${run.runId}?org=${ORG}` });
    expect(answer.status).toBe(500);
    expect(iamOf(stack).denials).toEqual([
      expect.objectContaining({
        caller: expect.stringContaining('assumed-role/GetScanRunFunctionRole/GetScanRunFunction'),
        action: 'dynamodb:GetItem',
        resource: expect.stringContaining(':table/ScanRunsTable'),
      }),
    ]);
  });

  it("from an integration's credentials role (ApiScanRunsRole's start): POST /scans is refused, nothing runs", async () => {
    const template = deployed();
    const role = template.Resources.ApiScanRunsRole?.Properties as {
      Policies: { PolicyDocument: { Statement: Statement[] } }[];
    };
    const starts = role.Policies[0]?.PolicyDocument;
    if (!starts) throw new Error('ApiScanRunsRole has no policy');
    starts.Statement = without(starts.Statement, (s) => s.Action === 'states:StartSyncExecution');
    stack = await startTestStack({ iamTemplate: template });
    const opened = await stack.request(stack.pki.scanner, {
      method: 'POST',
      path: '/scans',
      body: { org: ORG, scanner: 'nessus', scannedAt: new Date().toISOString() },
    });
    expect(opened.status).toBeGreaterThanOrEqual(400);
    expect(opened.status).not.toBe(201);
    expect(iamOf(stack).denials).toEqual([
      expect.objectContaining({
        caller: expect.stringContaining('assumed-role/ApiScanRunsRole/'),
        action: 'states:StartSyncExecution',
      }),
    ]);
    expect(stack.stack.backend.functions.stats().ScanRunsFunction?.coldStarts ?? 0).toBe(0);
  });

  it('from the permissions boundary (the page-token secret): every authorized GET /vuln with a page token answers 500', async () => {
    const template = deployed();
    const boundary = policy(template, 'RolePermissionsBoundary') as { Statement: Statement[] };
    boundary.Statement = without(boundary.Statement, (s) => s.Sid === 'ReadThePageTokenSecret');
    stack = await startTestStack({ iamTemplate: template });
    // What nothing removed still allows goes on working.
    expect(
      (
        await stack.request(stack.pki.scanner, {
          method: 'POST',
          path: '/vuln',
          body: { findings: findingBatch(2, { Org: ORG }) },
        })
      ).status,
    ).toBe(200);
    // A page with more after it signs a nextToken with the secret's key. (A single page reads no secret.)
    const answer = await stack.request(stack.pki.dashboard, { path: `/vuln?org=${ORG}&limit=1` });
    expect(answer.status).toBe(500);
    expect(answer.json()).toMatchObject({ message: expect.any(String) });
    expect(iamOf(stack).denials).toEqual([
      expect.objectContaining({ service: 'secretsmanager', action: 'secretsmanager:GetSecretValue' }),
    ]);
  });

  it('from the DynamoDB endpoint policy (EnableVpc=true, the runs table): POST /scans fails', async () => {
    const template = deployed();
    const endpoint = policy(template, 'DynamoDbEndpoint') as { Statement: Statement[] };
    endpoint.Statement = without(endpoint.Statement, (s) => s.Sid === 'ScanRunsAndIdempotencyRecords');
    stack = await startTestStack({ iamTemplate: template, parameterOverrides: VPC });
    const opened = await stack.request(stack.pki.scanner, {
      method: 'POST',
      path: '/scans',
      body: { org: ORG, scanner: 'nessus', scannedAt: new Date().toISOString() },
    });
    expect(opened.status).toBeGreaterThanOrEqual(500);
    expect(iamOf(stack).denials).toContainEqual(
      expect.objectContaining({
        caller: expect.stringContaining('assumed-role/ScanRunsFunctionRole/ScanRunsFunction'),
        action: 'dynamodb:PutItem',
        message: expect.stringContaining('VPC endpoint'),
      }),
    );
    // The findings table is still covered by its own statement.
    expect(
      (await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body: { findings: findingBatch(1) } }))
        .status,
    ).toBe(200);
  });
});
