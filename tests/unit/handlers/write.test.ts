import { ProvisionedThroughputExceededException, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TransientError } from '../../../functions/shared/core/errors';
import { REFERENCE_NORMALIZED } from '../../support/findings';
import { captureLogs, dynamoDb, FINDINGS_TABLE, lambdaContext, setHandlerEnvironment, type CapturedLogs } from '../../support/lambda';

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

/** UpdateItem answers as DynamoDB does with ReturnValues UPDATED_OLD: old FirstSeen only for existing items. */
function mockExisting(existing: string[]) {
  dynamoDb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    const vulnId = input.Key?.VulnID?.S ?? '';
    return existing.includes(vulnId) ? { Attributes: marshall({ FirstSeen: '2024-01-01T00:00:00.000Z', LastSeen: '2024-06-01T00:00:00.000Z' }) } : {};
  });
}

const updates = () => dynamoDb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);

describe('write handler', () => {
  it('counts created and updated findings from the old values DynamoDB returns', async () => {
    mockExisting(['old-1', 'old-2']);
    await expect(handler({ findings: findings(['new-1', 'old-1', 'new-2', 'old-2', 'new-3']), requestId: 'req-1' }, context)).resolves.toEqual({
      accepted: 5,
      created: 3,
      updated: 2,
      requestId: 'req-1',
    });
    expect(logs.lines().filter((line) => line.message === 'findings written')).toEqual([
      expect.objectContaining({ accepted: 5, created: 3, updated: 2, requestId: 'req-1' }),
    ]);
  });

  it('upserts by Org and VulnID, keeping FirstSeen and setting LastSeen and every field', async () => {
    mockExisting([]);
    await handler({ findings: [REFERENCE_NORMALIZED], requestId: 'req-1' }, context);
    const [update] = updates();
    expect(update).toMatchObject({ TableName: FINDINGS_TABLE, ReturnValues: 'UPDATED_OLD' });
    expect(unmarshall(update?.Key ?? {})).toEqual({ Org: 'org1', VulnID: 'testID3' });
    expect(update?.UpdateExpression).toContain('#FirstSeen = if_not_exists(#FirstSeen, :now)');
    expect(update?.UpdateExpression).toContain('#LastSeen = :now');
    expect(update?.UpdateExpression).not.toMatch(/#Org|#VulnID/);
    const values = unmarshall(update?.ExpressionAttributeValues ?? {});
    expect(values).toEqual({
      ':now': expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      ':AssetName': 'lax-psg-g.internal.org.com',
      ':DueDate': '2022-09-09',
      ':PluginId': 23234,
      ':PluginName': 'Palo Alto confusion ADE-OS Local File Inclusion',
      ':Priority': '234234234',
      ':Severity': 'UNKNOWN',
    });
  });

  it('stores the optional scanner fields, and removes those a re-report no longer carries', async () => {
    mockExisting([]);
    const rich = { ...REFERENCE_NORMALIZED, Cves: ['CVE-2021-44228'], CvssScore: 10, Port: 443, Protocol: 'tcp' as const, Evidence: 'line 1\nline 2' };
    await handler({ findings: [rich], requestId: 'req-1' }, context);
    const [update] = updates();
    expect(unmarshall(update?.ExpressionAttributeValues ?? {})).toMatchObject({ ':Cves': ['CVE-2021-44228'], ':CvssScore': 10, ':Port': 443, ':Protocol': 'tcp', ':Evidence': 'line 1\nline 2' });
    const removed = /REMOVE (.*)$/.exec(update?.UpdateExpression ?? '')?.[1]?.split(', ');
    expect(removed).toEqual(['#CvssVector', '#CvssVersion', '#IpAddress', '#PluginFamily', '#Description', '#Solution', '#Scanner']);
  });

  it('writes every finding of a full batch once', async () => {
    mockExisting([]);
    const ids = Array.from({ length: 100 }, (_, index) => `vuln-${index}`);
    await expect(handler({ findings: findings(ids), requestId: 'req-1' }, context)).resolves.toMatchObject({ accepted: 100, created: 100, updated: 0 });
    expect(updates().map((input) => input.Key?.VulnID?.S).sort()).toEqual([...ids].sort());
  });

  it('turns a throughput error into a TransientError the state machine retries', async () => {
    dynamoDb.on(UpdateItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    const error: unknown = await handler({ findings: findings(['a', 'b']), requestId: 'req-1' }, context).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).name).toBe('TransientError');
    expect((error as TransientError).cause).toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('passes other DynamoDB errors through as they are', async () => {
    const validation = Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    dynamoDb.on(UpdateItemCommand).rejects(validation);
    await expect(handler({ findings: findings(['a']), requestId: 'req-1' }, context)).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses findings without a valid Severity before writing anything', async () => {
    mockExisting([]);
    await expect(handler({ findings: [{ ...REFERENCE_NORMALIZED, Severity: 'SEVERE' }], requestId: 'req-1' }, context)).rejects.toMatchObject({ name: 'ZodError' });
    expect(updates()).toEqual([]);
  });
});
