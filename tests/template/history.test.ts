/** History and the org summary (issue 13): the stream, its consumer, the two tables and the two GET routes. */
import { isGetAtt, openApi, properties, resource, subText, template } from './support';

interface Operation {
  'x-amazon-apigateway-request-validator'?: string;
  'x-amazon-apigateway-integration': { type: string; uri: unknown; timeoutInMillis: number };
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, unknown>;
}

const get = (path: string) => openApi().paths[path]?.get as unknown as Operation;

test('HIST 1.1 the findings table streams every change with both images, consumed with partial-batch retries, bisection and an encrypted dead-letter queue', () => {
  expect(properties('FindingsTable').StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  const events = properties('FindingEventsFunction').Events as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const [source] = Object.values(events);
  expect(source?.Type).toBe('DynamoDB');
  const mapping = source?.Properties ?? {};
  expect(isGetAtt(mapping.Stream, 'FindingsTable', 'StreamArn')).toBe(true);
  expect(mapping).toMatchObject({
    StartingPosition: 'TRIM_HORIZON',
    BisectBatchOnFunctionError: true,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
  expect(mapping.MaximumRetryAttempts).toBeGreaterThan(0);
  const onFailure = (mapping.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure;
  expect(isGetAtt(onFailure.Destination, 'FindingEventsDeadLetterQueue', 'Arn')).toBe(true);
  const queue = properties('FindingEventsDeadLetterQueue');
  expect(isGetAtt(queue.KmsMasterKeyId, 'DataKey', 'Arn')).toBe(true);
  expect(resource('FindingEventsDeadLetterQueuePolicy')).toBeDefined();
});

test('HIST 1.2 history entries are kept at least 90 days (TTL, HistoryRetentionDays ≥ 90), in a table encrypted with the key and recoverable to any point in time', () => {
  const table = properties('FindingHistoryTable');
  expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'ExpiresAt', Enabled: true });
  expect(table.KeySchema).toEqual([
    { AttributeName: 'Finding', KeyType: 'HASH' },
    { AttributeName: 'Seq', KeyType: 'RANGE' },
  ]);
  const retention = template.Parameters?.HistoryRetentionDays as unknown as { MinValue: number; Default: number };
  expect(retention.MinValue).toBe(90);
  expect(retention.Default).toBeGreaterThanOrEqual(90);
  const variables = (properties('FindingEventsFunction').Environment as { Variables: Record<string, unknown> })
    .Variables;
  expect(variables.HISTORY_RETENTION_DAYS).toEqual({ Ref: 'HistoryRetentionDays' });
  for (const id of ['FindingHistoryTable', 'OrgSummaryTable']) {
    const props = properties(id);
    expect([
      id,
      (props.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled: boolean }).PointInTimeRecoveryEnabled,
    ]).toEqual([id, true]);
    expect([
      id,
      isGetAtt((props.SSESpecification as { KMSMasterKeyId: unknown }).KMSMasterKeyId, 'DataKey', 'Arn'),
    ]).toEqual([id, true]);
  }
});

test('HIST 1.3 GET /vuln/history and GET /vuln/summary validate their parameters, declare their statuses and each invoke only its own function (permission scoped to its route)', () => {
  const routes: [string, string, string, string[]][] = [
    [
      '/vuln/history',
      'GetFindingHistoryFunction',
      'GetFindingHistoryApiPermission',
      ['org', 'vulnId', 'limit', 'nextToken'],
    ],
    ['/vuln/summary', 'GetOrgSummaryFunction', 'GetOrgSummaryApiPermission', ['org']],
  ];
  for (const [path, fn, permissionId, parameters] of routes) {
    const operation = get(path);
    expect(operation['x-amazon-apigateway-request-validator']).toBe('params-only');
    expect(operation.parameters?.map((parameter) => parameter.name)).toEqual(parameters);
    expect(operation.parameters?.find((parameter) => parameter.name === 'org')?.required).toBe(true);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '403', '500', '503']);
    const integration = operation['x-amazon-apigateway-integration'];
    expect(integration.type).toBe('aws_proxy');
    expect(subText(integration.uri)).toContain(`\${${fn}.Arn}`);
    const permission = properties(permissionId);
    expect(isGetAtt(permission.FunctionName, fn, 'Arn')).toBe(true);
    expect(subText(permission.SourceArn)).toBe(
      `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${VulnerabilityApi}/\${StageName}/GET${path}`,
    );
  }
});
