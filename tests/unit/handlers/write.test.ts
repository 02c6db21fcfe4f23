import {
  ConditionalCheckFailedException,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  UpdateItemCommand,
  type GetItemCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { runItem } from '../../../functions/shared/adapters/run-item';
import { newRun } from '../../../functions/shared/core/scan-run';
import { TransientError } from '../../../functions/shared/core/errors';
import { REFERENCE_NORMALIZED } from '../../support/findings';
import {
  captureLogs,
  dynamoDb,
  FINDINGS_TABLE,
  lambdaContext,
  SCAN_RUNS_TABLE,
  setHandlerEnvironment,
  type CapturedLogs,
} from '../../support/lambda';

setHandlerEnvironment();
let handler: typeof import('../../../functions/write/handler').handler;
let logs: CapturedLogs;
beforeAll(async () => {
  ({ handler } = await import('../../../functions/write/handler'));
});
beforeEach(() => {
  dynamoDb.reset();
  logs = captureLogs();
});
afterEach(() => logs.restore());

const context = lambdaContext('write');
const findings = (vulnIds: string[]) => vulnIds.map((VulnID) => ({ ...REFERENCE_NORMALIZED, VulnID }));

const STORED_LAST_SEEN = '2024-06-01T00:00:00.000Z';
const UPSERT_CONDITION = 'attribute_not_exists(#VulnID) OR NOT #Status = :fixed AND #LastSeen <= :scannedAt';

const refused = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item ? { Item: marshall(item) } : {}),
  });

/**
 * DynamoDB as the write path sees it, for the stored findings given: the upsert applies when its
 * condition holds (answering the item it replaced, ALL_OLD) and is refused otherwise (with the item
 * when `itemOnRefusal`); a write conditioned on the item being unchanged applies; GetItem reads.
 */
function mockStored(
  existing: string[],
  stored: Record<string, unknown> = {},
  { itemOnRefusal = true }: { itemOnRefusal?: boolean } = {},
) {
  const itemOf = (vulnId: string): Record<string, unknown> | undefined =>
    existing.includes(vulnId)
      ? {
          ...REFERENCE_NORMALIZED,
          VulnID: vulnId,
          FirstSeen: '2024-01-01T00:00:00.000Z',
          LastSeen: STORED_LAST_SEEN,
          ...stored,
        }
      : undefined;
  dynamoDb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
    const item = itemOf(input.Key?.VulnID?.S ?? '');
    return item ? { Item: marshall(item) } : {};
  });
  dynamoDb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    const item = itemOf(input.Key?.VulnID?.S ?? '');
    if (input.ConditionExpression !== UPSERT_CONDITION) return {};
    const scannedAt = String(unmarshall(input.ExpressionAttributeValues ?? {})[':scannedAt']);
    const open = item === undefined || item.Status === undefined || item.Status === 'OPEN';
    if (item === undefined || (open && String(item.LastSeen) <= scannedAt))
      return item ? { Attributes: marshall(item), ConsumedCapacity: { CapacityUnits: 1 } } : {};
    throw refused(itemOnRefusal ? item : undefined);
  });
}

const updates = () => dynamoDb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);
const reads = () => dynamoDb.commandCalls(GetItemCommand).map((call) => call.args[0].input);
const RUN_ID = '7f1c2f64-5e1a-4c43-9d7e-0a4f0e8d2b11';

describe('write handler (without a scan run)', () => {
  it('counts created and updated findings from the items each write replaced, one request per finding', async () => {
    mockStored(['old-1', 'old-2'], { PluginName: 'an older name' });
    await expect(
      handler({ findings: findings(['new-1', 'old-1', 'new-2', 'old-2', 'new-3']), requestId: 'req-1' }, context),
    ).resolves.toEqual({
      accepted: 5,
      created: 3,
      updated: 2,
      unchanged: 0,
      stale: 0,
      reopened: 0,
      runId: null,
      requestId: 'req-1',
    });
    expect(updates()).toHaveLength(5);
    expect(reads()).toEqual([]);
    expect(logs.lines().filter((line) => line.message === 'findings written')).toEqual([
      expect.objectContaining({ accepted: 5, created: 3, updated: 2, requestId: 'req-1', writeUnits: 2 }),
    ]);
  });

  it('writes the upsert on the condition that the lifecycle allows it, asking for the item before and on refusal', async () => {
    mockStored(['testID3']);
    await handler({ findings: [{ ...REFERENCE_NORMALIZED, PluginName: 'renamed' }], requestId: 'req-1' }, context);
    const [update] = updates();
    expect(update).toMatchObject({
      TableName: FINDINGS_TABLE,
      ConditionExpression: UPSERT_CONDITION,
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(unmarshall(update?.Key ?? {})).toEqual({ Org: 'org1', VulnID: 'testID3' });
    expect(update?.UpdateExpression).toContain('#FirstSeen = if_not_exists(#FirstSeen, :scannedAt)');
    expect(update?.UpdateExpression).toContain('#LastSeen = :scannedAt');
    expect(update?.UpdateExpression).toContain('#Status = :open');
    expect(update?.UpdateExpression).not.toMatch(/#Org\b|#VulnID =/);
    const values = unmarshall(update?.ExpressionAttributeValues ?? {});
    expect(values).toMatchObject({ ':open': 'OPEN', ':PluginName': 'renamed', ':Severity': 'UNKNOWN' });
    expect(values[':scannedAt']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('counts a report older than the stored finding stale from the refusal alone: one request, nothing written', async () => {
    mockStored(['testID3'], { LastSeen: '2999-01-01T00:00:00.000Z' });
    await expect(handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context)).resolves.toMatchObject({
      stale: 1,
      updated: 0,
    });
    expect(updates()).toHaveLength(1);
    expect(reads()).toEqual([]);
  });

  it('reads the finding when the server answers a refusal without the item, and decides on the read', async () => {
    mockStored(['testID3'], { LastSeen: '2999-01-01T00:00:00.000Z' }, { itemOnRefusal: false });
    await expect(handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context)).resolves.toMatchObject({
      stale: 1,
    });
    expect(reads()).toEqual([expect.objectContaining({ ConsistentRead: true, TableName: FINDINGS_TABLE })]);
  });

  it('reopens a FIXED finding with a second write, conditioned on the finding the refusal carried', async () => {
    mockStored(['testID3'], { Status: 'FIXED', FixedAt: STORED_LAST_SEEN });
    await expect(handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context)).resolves.toMatchObject({
      updated: 1,
      reopened: 1,
    });
    const [, reopen] = updates();
    expect(reopen?.ConditionExpression).toBe(
      // The same Version too: a triage between the refusal and this write moves it (here: never versioned).
      'attribute_exists(#VulnID) AND #LastSeen = :storedLastSeen AND #Status = :storedStatus AND attribute_not_exists(#Version)',
    );
    expect(unmarshall(reopen?.ExpressionAttributeValues ?? {})).toMatchObject({
      ':storedLastSeen': STORED_LAST_SEEN,
      ':storedStatus': 'FIXED',
    });
    expect(reopen?.UpdateExpression).toContain('#TimesReopened = if_not_exists(#TimesReopened, :zero) + :one');
    expect(reads()).toEqual([]);
  });

  it('reopens an ACKNOWLEDGED finding as NEW in the same write, conditioned on the Version it read; other states stay', async () => {
    mockStored(['testID3'], { Status: 'FIXED', FixedAt: STORED_LAST_SEEN, Workflow: 'ACKNOWLEDGED', Version: 4 });
    await handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context);
    const [upsert, reopen] = updates();
    // The plain upsert never names a people-owned field.
    expect(Object.values(upsert?.ExpressionAttributeNames ?? {})).not.toEqual(expect.arrayContaining(['Workflow']));
    expect(reopen?.ConditionExpression).toContain('#Version = :storedVersion');
    expect(reopen?.UpdateExpression).toContain('#Workflow = :reopenedWorkflow');
    expect(unmarshall(reopen?.ExpressionAttributeValues ?? {})).toMatchObject({
      ':storedVersion': 4,
      ':reopenedWorkflow': 'NEW',
    });
    for (const Workflow of ['FALSE_POSITIVE', 'RISK_ACCEPTED', 'NEW']) {
      dynamoDb.resetHistory();
      mockStored(['testID3'], { Status: 'FIXED', FixedAt: STORED_LAST_SEEN, Workflow, Version: 4 });
      await handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context);
      const [, again] = updates();
      expect([Workflow, Object.values(again?.ExpressionAttributeNames ?? {}).includes('Workflow')]).toEqual([
        Workflow,
        false,
      ]);
      for (const name of ['Note', 'Justification', 'AcceptedUntil'])
        expect(Object.values(again?.ExpressionAttributeNames ?? {})).not.toContain(name);
    }
  });

  it('decides again on the item a refused write carries when another writer changed the finding first', async () => {
    mockStored(['testID3'], { Status: 'FIXED', FixedAt: STORED_LAST_SEEN });
    const newer = {
      ...REFERENCE_NORMALIZED,
      FirstSeen: '2024-01-01T00:00:00.000Z',
      LastSeen: '2999-01-01T00:00:00.000Z',
      Status: 'OPEN',
    };
    // The upsert is refused by the FIXED finding; the reopen, by a newer report that landed in between.
    dynamoDb
      .on(UpdateItemCommand)
      .rejectsOnce(refused({ ...newer, LastSeen: STORED_LAST_SEEN, Status: 'FIXED', FixedAt: STORED_LAST_SEEN }))
      .rejectsOnce(refused(newer));
    await expect(handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context)).resolves.toMatchObject({
      stale: 1,
      reopened: 0,
    });
    expect(updates()).toHaveLength(2);
  });

  it('attributes an unchanged finding to the run that saw it in the one upsert', async () => {
    const run = newRun(
      RUN_ID,
      { org: 'org1', scanner: 'nessus', scannedAt: STORED_LAST_SEEN },
      { ou: 'scanner', serialNumber: '01' },
      new Date(STORED_LAST_SEEN),
    );
    mockStored(['testID3'], { Scanner: 'nessus', Status: 'OPEN', LastRunId: 'an-earlier-run' });
    dynamoDb.on(GetItemCommand, { TableName: SCAN_RUNS_TABLE }).resolves({ Item: runItem(run) });
    dynamoDb.on(PutItemCommand).resolves({});
    const answer = await handler({ findings: [REFERENCE_NORMALIZED], runId: RUN_ID, requestId: 'req-1' }, context);
    expect(answer).toMatchObject({ unchanged: 1, updated: 0, runId: RUN_ID });
    const findingWrites = updates().filter((input) => input.TableName === FINDINGS_TABLE);
    expect(findingWrites).toHaveLength(1);
    expect(unmarshall(findingWrites[0]?.ExpressionAttributeValues ?? {})).toMatchObject({ ':runId': RUN_ID });
  });

  it('stores the optional scanner fields, and removes those a re-report no longer carries', async () => {
    mockStored([]);
    const rich = {
      ...REFERENCE_NORMALIZED,
      Cves: ['CVE-2021-44228'],
      CvssScore: 10,
      Port: 443,
      Protocol: 'tcp' as const,
      Evidence: 'line 1\nline 2',
    };
    await handler({ findings: [rich], requestId: 'req-1' }, context);
    const [update] = updates();
    expect(unmarshall(update?.ExpressionAttributeValues ?? {})).toMatchObject({
      ':Cves': ['CVE-2021-44228'],
      ':CvssScore': 10,
      ':Port': 443,
      ':Protocol': 'tcp',
      ':Evidence': 'line 1\nline 2',
    });
    const removed = /REMOVE (.*)$/.exec(update?.UpdateExpression ?? '')?.[1]?.split(', ');
    expect(removed).toEqual([
      '#CvssVector',
      '#CvssVersion',
      '#IpAddress',
      '#PluginFamily',
      '#Description',
      '#Solution',
      '#Scanner',
      // The package and cloud scanners' fields ([14]); PluginId is reported, so it stays.
      '#RuleId',
      '#PackageName',
      '#PackageVersion',
      '#FixedVersion',
      '#PackagePath',
      '#Cwes',
      '#References',
      '#EpssScore',
      '#KnownExploit',
    ]);
  });

  it('writes every finding of a full batch once', async () => {
    mockStored([]);
    const ids = Array.from({ length: 100 }, (_, index) => `vuln-${index}`);
    await expect(handler({ findings: findings(ids), requestId: 'req-1' }, context)).resolves.toMatchObject({
      accepted: 100,
      created: 100,
      updated: 0,
    });
    expect(
      updates()
        .map((input) => input.Key?.VulnID?.S)
        .sort(),
    ).toEqual([...ids].sort());
  });

  it('turns a throughput error into a TransientError the state machine retries', async () => {
    mockStored([]);
    dynamoDb
      .on(UpdateItemCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }),
      );
    const error: unknown = await handler({ findings: findings(['a', 'b']), requestId: 'req-1' }, context).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).name).toBe('TransientError');
    expect((error as TransientError).cause).toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('passes other DynamoDB errors through as they are', async () => {
    mockStored([]);
    const validation = Object.assign(new Error('One or more parameter values were invalid'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    dynamoDb.on(UpdateItemCommand).rejects(validation);
    await expect(handler({ findings: findings(['a']), requestId: 'req-1' }, context)).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('refuses findings without a valid Severity before writing anything', async () => {
    mockStored([]);
    await expect(
      handler({ findings: [{ ...REFERENCE_NORMALIZED, Severity: 'SEVERE' }], requestId: 'req-1' }, context),
    ).rejects.toMatchObject({ name: 'ZodError' });
    expect(updates()).toEqual([]);
  });
});
