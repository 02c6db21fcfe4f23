import {
  ConditionalCheckFailedException,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
  type GetItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TransientError } from '../../../functions/shared/core/errors';
import { REFERENCE_NORMALIZED } from '../../support/findings';
import {
  captureLogs,
  dynamoDb,
  FINDINGS_TABLE,
  lambdaContext,
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

/** GetItem answers the stored findings; UpdateItem succeeds. */
function mockExisting(existing: string[], stored: Record<string, unknown> = {}) {
  dynamoDb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
    const vulnId = input.Key?.VulnID?.S ?? '';
    return existing.includes(vulnId)
      ? {
          Item: marshall({
            ...REFERENCE_NORMALIZED,
            VulnID: vulnId,
            FirstSeen: '2024-01-01T00:00:00.000Z',
            LastSeen: STORED_LAST_SEEN,
            ...stored,
          }),
        }
      : {};
  });
  dynamoDb.on(UpdateItemCommand).resolves({});
}

const updates = () => dynamoDb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);

describe('write handler (without a scan run)', () => {
  it('counts created and updated findings from what it read, and logs the counts once', async () => {
    mockExisting(['old-1', 'old-2'], { PluginName: 'an older name' });
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
    expect(logs.lines().filter((line) => line.message === 'findings written')).toEqual([
      expect.objectContaining({ accepted: 5, created: 3, updated: 2, requestId: 'req-1' }),
    ]);
  });

  it('writes on condition: a new finding must still be absent, an existing one unchanged since the read', async () => {
    mockExisting(['testID3']);
    await handler({ findings: [{ ...REFERENCE_NORMALIZED, PluginName: 'renamed' }], requestId: 'req-1' }, context);
    const [update] = updates();
    expect(update).toMatchObject({ TableName: FINDINGS_TABLE });
    expect(unmarshall(update?.Key ?? {})).toEqual({ Org: 'org1', VulnID: 'testID3' });
    expect(update?.ConditionExpression).toBe(
      'attribute_exists(#VulnID) AND #LastSeen = :storedLastSeen AND attribute_not_exists(#Status)',
    );
    expect(update?.UpdateExpression).toContain('#FirstSeen = if_not_exists(#FirstSeen, :scannedAt)');
    expect(update?.UpdateExpression).toContain('#LastSeen = :scannedAt');
    expect(update?.UpdateExpression).toContain('#Status = :open');
    expect(update?.UpdateExpression).not.toMatch(/#Org\b|#VulnID =/);
    const values = unmarshall(update?.ExpressionAttributeValues ?? {});
    expect(values).toMatchObject({
      ':storedLastSeen': STORED_LAST_SEEN,
      ':open': 'OPEN',
      ':PluginName': 'renamed',
      ':Severity': 'UNKNOWN',
    });
    expect(values[':scannedAt']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    dynamoDb.reset();
    mockExisting([]);
    await handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-2' }, context);
    expect(updates()[0]?.ConditionExpression).toBe('attribute_not_exists(#VulnID)');
  });

  it('reads again and decides again when another writer changed the finding first', async () => {
    mockExisting(['testID3']);
    dynamoDb
      .on(UpdateItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }))
      .resolves({});
    await expect(handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context)).resolves.toMatchObject({
      updated: 1,
    });
    expect(dynamoDb.commandCalls(GetItemCommand)).toHaveLength(2);
    expect(updates()).toHaveLength(2);
  });

  it('stores the optional scanner fields, and removes those a re-report no longer carries', async () => {
    mockExisting([]);
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
    mockExisting([]);
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
    mockExisting([]);
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
    mockExisting([]);
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
    mockExisting([]);
    await expect(
      handler({ findings: [{ ...REFERENCE_NORMALIZED, Severity: 'SEVERE' }], requestId: 'req-1' }, context),
    ).rejects.toMatchObject({ name: 'ZodError' });
    expect(updates()).toEqual([]);
  });
});
