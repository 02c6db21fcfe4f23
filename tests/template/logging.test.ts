/** Logging and audit controls: access and execution logs, log groups, the trail and its bucket. */
import {
  actionsOf,
  alternatives,
  conditionValues,
  functionsAfterGlobals,
  isGetAtt,
  isRef,
  logicalIdsOfType,
  mentions,
  properties,
  resource,
  resourcesOf,
  statementsOwnedBy,
  subText,
  template,
  type PolicyStatement,
} from './support';

test('LOG 1.1 API access logs are JSON with caller, certificate, status and latency, and never a body', () => {
  const setting = properties('VulnerabilityApi').AccessLogSetting as { DestinationArn: unknown; Format: string };
  expect(isGetAtt(setting.DestinationArn, 'ApiAccessLogGroup', 'Arn')).toBe(true);
  const format = JSON.parse(setting.Format) as Record<string, string>;
  const variables = Object.values(format);
  for (const variable of [
    '$context.requestId',
    '$context.identity.sourceIp',
    '$context.httpMethod',
    '$context.resourcePath',
    '$context.status',
    '$context.responseLatency',
    '$context.integrationLatency',
    '$context.identity.clientCert.subjectDN',
    '$context.identity.clientCert.serialNumber',
  ]) {
    expect(variables).toContain(variable);
  }
  expect(setting.Format).not.toMatch(/\$input|body|requestOverride|responseOverride|clientCertPem|authorizer/i);
  for (const variable of variables) expect(variable).toMatch(/^\$context\.[\w.]+$/);
});

test('LOG 1.2 execution logs record errors only, never request data; the state machine logs errors without execution data', () => {
  const settings = properties('VulnerabilityApi').MethodSettings as Record<string, unknown>[];
  expect(settings.length).toBeGreaterThan(0);
  for (const setting of settings)
    expect(setting).toMatchObject({ LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true });
  const logging = properties('IngestStateMachine').Logging as {
    Level: string;
    IncludeExecutionData: boolean;
    Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: unknown } }[];
  };
  expect(logging).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
  expect(
    isGetAtt(logging.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn, 'IngestStateMachineLogGroup', 'Arn'),
  ).toBe(true);
});

test('LOG 1.3 every log group keeps LogRetentionDays, is encrypted with the key and outlives the stack', () => {
  const groups = logicalIdsOfType('AWS::Logs::LogGroup');
  expect(groups.length).toBeGreaterThanOrEqual(10);
  for (const group of groups) {
    expect([group, isRef(properties(group).RetentionInDays, 'LogRetentionDays')]).toEqual([group, true]);
    expect([group, isGetAtt(properties(group).KmsKeyId, 'DataKey', 'Arn')]).toEqual([group, true]);
    expect([group, resource(group).DeletionPolicy, resource(group).UpdateReplacePolicy]).toEqual([
      group,
      'RetainExceptOnCreate',
      'Retain',
    ]);
  }
  const retention = template.Parameters?.LogRetentionDays as unknown as { AllowedValues: number[]; Default: number };
  expect(retention.AllowedValues).toEqual([
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
  ]);
  expect(retention.AllowedValues).toContain(retention.Default);
});

test('LOG 1.4 each function logs to a log group of its own that the stack creates first', () => {
  for (const [fn, props] of functionsAfterGlobals()) {
    const group = `${fn}LogGroup`;
    expect([fn, isRef((props.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup, group)]).toEqual([
      fn,
      true,
    ]);
    // Unnamed: CloudFormation names it <stack>-<LogicalId>-<random>, which the key policy's
    // `${AWS::StackName}-*` encryption context covers, and which a re-created stack never collides with.
    expect([group, properties(group).LogGroupName]).toEqual([group, undefined]);
  }
});

test("LOG 1.5 the CloudTrail trail (unless an organization trail exists) validates, encrypts and records only this stack's data events", () => {
  const trail = resource('Trail');
  expect(trail.Condition).toBe('ShouldCreateTrail');
  expect(template.Conditions?.ShouldCreateTrail).toEqual({ 'Fn::Equals': [{ Ref: 'CreateTrail' }, 'true'] });
  const props = trail.Properties ?? {};
  expect(props).toMatchObject({ EnableLogFileValidation: true, IsLogging: true });
  expect(isGetAtt(props.KMSKeyId, 'DataKey', 'Arn')).toBe(true);
  expect(isRef(props.S3BucketName, 'LogBucket')).toBe(true);
  expect(trail.DependsOn).toBe('LogBucketPolicy');
  expect(props.EventSelectors).toBeUndefined();

  type FieldSelector = {
    Field: string;
    Equals?: unknown[];
    StartsWith?: unknown[];
    NotEquals?: unknown[];
    NotStartsWith?: unknown[];
  };
  const selectors = props.AdvancedEventSelectors as { Name: string; FieldSelectors: FieldSelector[] }[];
  const dataSelectors = selectors.filter((selector) =>
    selector.FieldSelectors.some((field) => field.Field === 'eventCategory' && field.Equals?.includes('Data')),
  );
  const types = dataSelectors.map(
    (selector) => selector.FieldSelectors.find((field) => field.Field === 'resources.type')?.Equals?.[0],
  );
  expect(types.sort()).toEqual(['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::S3::Object']);
  for (const selector of dataSelectors) {
    const arns = selector.FieldSelectors.find((field) => field.Field === 'resources.ARN');
    const values = [...(arns?.Equals ?? []), ...(arns?.StartsWith ?? [])];
    expect([selector.Name, values.length > 0]).toEqual([selector.Name, true]);
    for (const value of values) {
      // A resource of this stack, or one named bucket's objects: never a bare service prefix.
      const own = Object.keys(template.Resources).some((id) => isGetAtt(value, id, 'Arn'));
      const text = subText(value) ?? '';
      expect([selector.Name, own || /^arn:\$\{AWS::Partition\}:s3:::\$\{[A-Za-z]+\}\/$/.test(text)]).toEqual([
        selector.Name,
        true,
      ]);
      expect(text).not.toMatch(/^arn:(aws|\$\{AWS::Partition\}):s3(:::)?$/);
    }
  }
  const tables = dataSelectors.find((selector) => selector.Name.includes('tables'));
  // Every table of the stack, the history and the org summaries included: who read or wrote which item.
  const tableIds = logicalIdsOfType('AWS::DynamoDB::Table');
  expect(tableIds).toEqual(
    expect.arrayContaining(['FindingsTable', 'AuthzTable', 'FindingHistoryTable', 'OrgSummaryTable']),
  );
  for (const id of tableIds) expect([id, mentions(tables, id)]).toEqual([id, true]);
  for (const fn of logicalIdsOfType('AWS::Serverless::Function'))
    expect([fn, mentions(dataSelectors, fn)]).toEqual([fn, true]);
  expect(mentions(dataSelectors, 'TruststoreUri')).toBe(true);
});

test('LOG 1.6 the trail bucket locks every log file and nobody may delete one or loosen the bucket', () => {
  const bucket = properties('LogBucket');
  expect(bucket.ObjectLockEnabled).toBe(true);
  const lock = bucket.ObjectLockConfiguration as {
    ObjectLockEnabled: string;
    Rule: { DefaultRetention: { Mode: unknown; Days: unknown } };
  };
  expect(lock.ObjectLockEnabled).toBe('Enabled');
  expect(isRef(lock.Rule.DefaultRetention.Days, 'TrailObjectLockDays')).toBe(true);
  expect(isRef(lock.Rule.DefaultRetention.Mode, 'TrailObjectLockMode')).toBe(true);
  expect(resource('LogBucket').DeletionPolicy).toBe('Retain');

  const statements = statementsOwnedBy('LogBucketPolicy');
  const noDelete = statements.find(
    (s) =>
      s.Effect === 'Deny' &&
      s.Principal === '*' &&
      ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'].every((a) =>
        actionsOf(s).includes(a),
      ),
  );
  expect(noDelete).toBeDefined();
  expect(noDelete?.Condition).toBeUndefined();
  const guard = statements.find(
    (s) => s.Effect === 'Deny' && actionsOf(s).includes('s3:PutBucketPolicy'),
  ) as PolicyStatement;
  expect(actionsOf(guard)).toEqual(
    expect.arrayContaining([
      's3:DeleteBucketPolicy',
      's3:PutBucketObjectLockConfiguration',
      's3:PutLifecycleConfiguration',
    ]),
  );
  expect(isRef(conditionValues(guard, 'ArnNotLike', 'aws:PrincipalArn')[0], 'KeyAdminPrincipalArns')).toBe(true);
  // CloudTrail may only write its own files, for its own trail.
  const allows = statements.filter((s) => s.Effect === 'Allow');
  for (const allow of allows) {
    expect(allow.Principal).toEqual({ Service: 'cloudtrail.amazonaws.com' });
    expect(subText(conditionValues(allow, 'StringEquals', 'aws:SourceArn')[0])).toBe(
      'arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/vuln-api-trail-${StackId}',
    );
    expect(actionsOf(allow).every((action) => ['s3:GetBucketAcl', 's3:PutObject'].includes(action))).toBe(true);
    // The policy names the trail this stack creates: the same text and the same stack-id variable.
    const [arnText, arnVariables] = (
      conditionValues(allow, 'StringEquals', 'aws:SourceArn')[0] as { 'Fn::Sub': [string, object] }
    )['Fn::Sub'];
    const [trailText, trailVariables] = (properties('Trail').TrailName as { 'Fn::Sub': [string, object] })['Fn::Sub'];
    expect(arnText.endsWith(`:trail/${trailText}`)).toBe(true);
    expect(arnVariables).toEqual(trailVariables);
  }
  expect(
    resourcesOf(allows.find((s) => actionsOf(s).includes('s3:PutObject')) as PolicyStatement).map(subText),
  ).toEqual(['${LogBucket.Arn}/cloudtrail/AWSLogs/${AWS::AccountId}/*']);
});

test("LOG 1.7 API Gateway's account logging role is created only when asked, and the API waits for it", () => {
  for (const id of ['ApiGatewayAccount', 'ApiGatewayCloudWatchRole'])
    expect([id, resource(id).Condition]).toEqual([id, 'ShouldCreateApiGatewayAccount']);
  expect(isGetAtt(properties('ApiGatewayAccount').CloudWatchRoleArn, 'ApiGatewayCloudWatchRole', 'Arn')).toBe(true);
  expect(resource('VulnerabilityApi').DependsOn).toBe('ApiGatewayLoggingReady');
  expect(
    alternatives((resource('ApiGatewayLoggingReady').Metadata as { AccountSettings: unknown }).AccountSettings).some(
      (value) => isRef(value, 'ApiGatewayAccount'),
    ),
  ).toBe(true);
  expect(template.Parameters?.CreateApiGatewayAccountRole?.AllowedValues).toEqual(['true', 'false']);
});

test("LOG 1.8 the stack creates API Gateway's execution log group before the domain can route to the API", () => {
  expect(subText(properties('ApiExecutionLogGroup').LogGroupName)).toBe(
    'API-Gateway-Execution-Logs_${VulnerabilityApi}/${StageName}',
  );
  expect(resource('ApiBasePathMapping').DependsOn).toEqual(expect.arrayContaining(['ApiExecutionLogGroup']));
});
