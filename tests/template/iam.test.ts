/** IAM controls: one least-privilege role per workload, a boundary on every role, no wildcards. */
import {
  ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS,
  IDENTITY_KINDS,
  KMS_CRYPTOGRAPHIC_ACTIONS,
  actionsOf,
  allStatements,
  alternatives,
  conditionValues,
  functionsAfterGlobals,
  isAccountRootDelegation,
  isGetAtt,
  isRef,
  isWildcardAction,
  logicalIdsOfType,
  onlyIf,
  openApi,
  properties,
  resourcesOf,
  statementsOfKind,
  statementsOwnedBy,
  subText,
  trustStatements,
  type PolicyStatement,
} from './support';

const roleOf = (logicalId: string): string => {
  const role = properties(logicalId).Role;
  if (!isGetAtt(role, (role as { 'Fn::GetAtt': string[] })['Fn::GetAtt']?.[0] ?? '', 'Arn'))
    throw new Error(`${logicalId} has no Role: !GetAtt X.Arn`);
  return (role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
};

const allowed = (statements: PolicyStatement[]) => statements.filter((statement) => statement.Effect === 'Allow');
const allowedActions = (roleId: string) => new Set(allowed(statementsOwnedBy(roleId)).flatMap(actionsOf));

/** The routes whose integration starts a state machine, the role each names, and the one machine that role may start. */
const STARTING_ROUTES: [path: string, role: string, machine: string][] = [
  ['/vuln', 'ApiStepFunctionsRole', 'IngestStateMachine'],
  ['/scans', 'ApiScanRunsRole', 'ScanRunsStateMachine'],
  ['/scans/{runId}/complete', 'ApiScanRunsRole', 'ScanRunsStateMachine'],
];

test('IAM 1.1 every function, every state machine and every API integration has a role of its own', () => {
  const functions = logicalIdsOfType('AWS::Serverless::Function');
  const machines = logicalIdsOfType('AWS::Serverless::StateMachine');
  const roles = [...functions.map(roleOf), ...machines.map(roleOf)];
  expect(functions).toHaveLength(12);
  expect(machines.sort()).toEqual(['CloseRunStateMachine', 'IngestStateMachine', 'ScanRunsStateMachine']);
  expect(new Set(roles).size).toBe(roles.length);
  for (const role of roles) expect(logicalIdsOfType('AWS::IAM::Role')).toContain(role);

  for (const [path, role] of STARTING_ROUTES) {
    const integration = openApi().paths[path]?.post?.['x-amazon-apigateway-integration'] as { credentials?: unknown };
    expect([path, isGetAtt(integration.credentials, role, 'Arn')]).toEqual([path, true]);
    expect(roles).not.toContain(role);
  }
});

test('IAM 1.2 no Allow statement grants a wildcard action (only the key policy delegates kms:* to the account)', () => {
  const offenders = allStatements()
    .filter((located) => located.statement.Effect === 'Allow' && !isAccountRootDelegation(located))
    .filter(
      (located) => located.statement.NotAction !== undefined || actionsOf(located.statement).some(isWildcardAction),
    )
    .map(
      (located) =>
        `${located.owner}${located.policyName ? `/${located.policyName}` : ''}: ${actionsOf(located.statement).join(', ')}`,
    );
  expect(offenders).toEqual([]);
  // The delegation is to this account's root only.
  const delegations = allStatements().filter(isAccountRootDelegation);
  expect(delegations).toHaveLength(1);
});

test("IAM 1.3 Resource '*' appears only with actions that have no resource-level permissions", () => {
  const offenders = statementsOfKind(...IDENTITY_KINDS)
    .filter((located) => located.statement.Effect === 'Allow')
    .filter((located) => resourcesOf(located.statement).includes('*') || resourcesOf(located.statement).length === 0)
    .flatMap((located) =>
      actionsOf(located.statement)
        .filter((action) => !ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.has(action))
        .map((action) => `${located.owner}: ${action}`),
    );
  expect(offenders).toEqual([]);
  // No resource is a bare service prefix either (arn:...:dynamodb:*:*:table/* and the like).
  const broad = statementsOfKind('role')
    .filter((located) => located.statement.Effect === 'Allow')
    .flatMap((located) => resourcesOf(located.statement).map((value) => subText(value) ?? ''))
    .filter((text) => /:\*:\*:|:::\*$/.test(text));
  expect(broad).toEqual([]);
});

test('IAM 1.4 every role has the stack permissions boundary', () => {
  const roles = logicalIdsOfType('AWS::IAM::Role');
  expect(roles.length).toBeGreaterThanOrEqual(8);
  for (const role of roles)
    expect([role, isRef(properties(role).PermissionsBoundary, 'RolePermissionsBoundary')]).toEqual([role, true]);
  expect(logicalIdsOfType('AWS::IAM::ManagedPolicy')).toContain('RolePermissionsBoundary');
});

test('IAM 1.5 the boundary denies deleting logs, tampering with the trail, destroying the key and removing itself', () => {
  const denied = new Set(
    statementsOwnedBy('RolePermissionsBoundary')
      .filter((s) => s.Effect === 'Deny' && resourcesOf(s).includes('*'))
      .flatMap(actionsOf),
  );
  for (const action of [
    'logs:DeleteLogGroup',
    'logs:DeleteLogStream',
    'cloudtrail:DeleteTrail',
    'cloudtrail:StopLogging',
    'cloudtrail:UpdateTrail',
    'cloudtrail:PutEventSelectors',
    'kms:ScheduleKeyDeletion',
    'kms:DisableKey',
    'kms:PutKeyPolicy',
    'iam:DeleteRolePermissionsBoundary',
    'iam:PutRolePermissionsBoundary',
    'iam:CreatePolicyVersion',
  ]) {
    expect([action, denied.has(action)]).toEqual([action, true]);
  }
});

test('IAM 1.6 roles use the data key only through kms:ViaService', () => {
  const kmsStatements = statementsOfKind(...IDENTITY_KINDS)
    .filter((located) => located.owner !== 'RolePermissionsBoundary')
    .filter(
      (located) =>
        located.statement.Effect === 'Allow' &&
        actionsOf(located.statement).some((action) => KMS_CRYPTOGRAPHIC_ACTIONS.has(action)),
    );
  expect(kmsStatements.length).toBeGreaterThanOrEqual(4);
  for (const { owner, statement } of kmsStatements) {
    const services = conditionValues(statement, 'StringEquals', 'kms:ViaService').map((value) => subText(value));
    expect([owner, services.length > 0]).toEqual([owner, true]);
    for (const service of services)
      // sqs: the finding-events dead-letter queue, which the data key encrypts.
      expect(service).toMatch(/^(dynamodb|backup|secretsmanager|sqs)\.\$\{AWS::Region\}\.amazonaws\.com$/);
    expect(resourcesOf(statement).every((value) => isGetAtt(value, 'DataKey', 'Arn'))).toBe(true);
  }
});

test('IAM 1.7 each API integration role may only start synchronous executions of its one state machine', () => {
  for (const [path, role, machine] of STARTING_ROUTES) {
    const statements = statementsOwnedBy(role);
    expect([path, statements.length]).toEqual([path, 1]);
    const [statement] = statements as [PolicyStatement];
    expect(statement.Effect).toBe('Allow');
    expect(actionsOf(statement)).toEqual(['states:StartSyncExecution']);
    expect(resourcesOf(statement)).toHaveLength(1);
    expect([path, isRef(resourcesOf(statement)[0], machine)]).toEqual([path, true]);
  }
});

test('IAM 1.13 the scan-runs machine may start only the close-run machine, asynchronously; the close-run machine starts nothing', () => {
  const starts = allowed(statementsOwnedBy('ScanRunsStateMachineRole')).filter((statement) =>
    actionsOf(statement).some((action) => action.startsWith('states:')),
  );
  expect(starts.map(actionsOf)).toEqual([['states:StartExecution']]);
  expect(resourcesOf(starts[0] as PolicyStatement).map((value) => isRef(value, 'CloseRunStateMachine'))).toEqual([
    true,
  ]);
  expect([...allowedActions('CloseRunStateMachineRole')].filter((action) => action.startsWith('states:'))).toEqual([]);
  expect(properties('CloseRunStateMachine').Type).toBe('STANDARD');
  expect(properties('ScanRunsStateMachine').Type).toBe('EXPRESS');
});

/**
 * The trust each service documents for the roles it assumes (pages cited in docs/deploy.md, "Service
 * roles"). A condition key the service does not send fails every AssumeRole: API Gateway sends no
 * aws:SourceAccount for an integration's credentials, so such a condition makes every POST a 500.
 * Where a service documents confused-deputy keys, the role uses them.
 */
const DOCUMENTED_TRUST: Record<string, { service: string; conditionKeys: string[] }> = {
  ApiStepFunctionsRole: { service: 'apigateway.amazonaws.com', conditionKeys: [] },
  ApiScanRunsRole: { service: 'apigateway.amazonaws.com', conditionKeys: [] },
  ScanRunsStateMachineRole: { service: 'states.amazonaws.com', conditionKeys: ['aws:SourceAccount'] },
  CloseRunStateMachineRole: { service: 'states.amazonaws.com', conditionKeys: ['aws:SourceAccount'] },
  ApiGatewayCloudWatchRole: { service: 'apigateway.amazonaws.com', conditionKeys: [] },
  BackupRole: { service: 'backup.amazonaws.com', conditionKeys: [] },
  IngestStateMachineRole: { service: 'states.amazonaws.com', conditionKeys: ['aws:SourceAccount'] },
  VpcFlowLogRole: { service: 'vpc-flow-logs.amazonaws.com', conditionKeys: ['aws:SourceAccount', 'aws:SourceArn'] },
};

test('IAM 1.8 service roles trust their service with exactly the condition keys that service documents', () => {
  for (const role of logicalIdsOfType('AWS::IAM::Role')) {
    const services = trustStatements(role).map((statement) => (statement.Principal as { Service?: unknown }).Service);
    if (services.every((service) => service === 'lambda.amazonaws.com')) continue;
    const documented = DOCUMENTED_TRUST[role];
    expect([role, documented === undefined ? 'no documented trust listed for this role' : 'listed']).toEqual([
      role,
      'listed',
    ]);
    for (const statement of trustStatements(role)) {
      expect([role, statement.Effect, statement.Action, statement.Principal]).toEqual([
        role,
        'Allow',
        'sts:AssumeRole',
        { Service: documented?.service },
      ]);
      const keys = Object.values(statement.Condition ?? {})
        .flatMap((byKey) => Object.keys(byKey))
        .sort();
      expect([role, keys]).toEqual([role, documented?.conditionKeys]);
      if (keys.includes('aws:SourceAccount'))
        expect([
          role,
          isRef(conditionValues(statement, 'StringEquals', 'aws:SourceAccount')[0], 'AWS::AccountId'),
        ]).toEqual([role, true]);
    }
  }
});

test('IAM 1.9 each function may touch only the tables it uses, with the actions it uses', () => {
  const dataActions = (roleId: string) =>
    [...allowedActions(roleId)].filter((action) => action.startsWith('dynamodb:')).sort();
  const expected: Record<string, string[]> = {
    ValidateFunction: [],
    NormalizeFunction: [],
    AuthorizeFunction: ['dynamodb:GetItem'],
    WriteFunction: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    GetFindingsFunction: ['dynamodb:GetItem', 'dynamodb:Query'],
    ScanRunsFunction: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    CloseRunFunction: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    GetScanRunFunction: ['dynamodb:GetItem'],
    TriageFindingsFunction: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    // The stream's four reads (its event source mapping), history PutItem, summary GetItem and UpdateItem.
    FindingEventsFunction: [
      'dynamodb:DescribeStream',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ],
    GetFindingHistoryFunction: ['dynamodb:GetItem', 'dynamodb:Query'],
    GetOrgSummaryFunction: ['dynamodb:GetItem'],
  };
  for (const [fn] of functionsAfterGlobals()) expect([fn, dataActions(roleOf(fn))]).toEqual([fn, expected[fn]]);

  const tables = ['FindingsTable', 'AuthzTable', 'ScanRunsTable', 'FindingHistoryTable', 'OrgSummaryTable'];
  const tableOf = (statement: PolicyStatement) =>
    resourcesOf(statement).map(
      (value) =>
        tables.find((table) => isGetAtt(value, table, 'Arn')) ??
        (isGetAtt(value, 'FindingsTable', 'StreamArn') ? 'FindingsTable.StreamArn' : JSON.stringify(value)),
    );
  const dynamo = (roleId: string) =>
    allowed(statementsOwnedBy(roleId)).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
  const grants = (roleId: string) =>
    dynamo(roleId)
      .flatMap((s) => actionsOf(s).map((a) => `${a} ${tableOf(s).join()}`))
      .sort();
  expect(dynamo('AuthorizeFunctionRole').flatMap(tableOf)).toEqual(['AuthzTable']);
  // The findings are read and written on condition; deleting is only ever Powertools Idempotency's, on the runs table.
  expect(grants('WriteFunctionRole')).toEqual([
    'dynamodb:DeleteItem ScanRunsTable',
    'dynamodb:GetItem FindingsTable',
    'dynamodb:GetItem ScanRunsTable',
    'dynamodb:PutItem ScanRunsTable',
    'dynamodb:UpdateItem FindingsTable',
    'dynamodb:UpdateItem ScanRunsTable',
  ]);
  expect(grants('GetFindingsFunctionRole')).toEqual(['dynamodb:GetItem AuthzTable', 'dynamodb:Query FindingsTable']);
  expect(grants('ScanRunsFunctionRole')).toEqual([
    'dynamodb:GetItem ScanRunsTable',
    'dynamodb:PutItem ScanRunsTable',
    'dynamodb:UpdateItem ScanRunsTable',
  ]);
  expect(grants('CloseRunFunctionRole')).toEqual([
    'dynamodb:GetItem ScanRunsTable',
    'dynamodb:Query FindingsTable',
    'dynamodb:UpdateItem FindingsTable',
    'dynamodb:UpdateItem ScanRunsTable',
  ]);
  expect(grants('GetScanRunFunctionRole')).toEqual(['dynamodb:GetItem AuthzTable', 'dynamodb:GetItem ScanRunsTable']);
  // Triage: one conditional UpdateItem per finding (GetItem only when a server returns no item with a refusal); never Query, Put or Delete.
  expect(grants('TriageFindingsFunctionRole')).toEqual([
    'dynamodb:GetItem AuthzTable',
    'dynamodb:GetItem FindingsTable',
    'dynamodb:UpdateItem FindingsTable',
  ]);
  // History and summary: the consumer reads only the findings stream and writes only its two tables; each GET reads one.
  expect(grants('FindingEventsFunctionRole')).toEqual([
    'dynamodb:DescribeStream FindingsTable.StreamArn',
    'dynamodb:GetItem OrgSummaryTable',
    'dynamodb:GetRecords FindingsTable.StreamArn',
    'dynamodb:GetShardIterator FindingsTable.StreamArn',
    'dynamodb:ListStreams "*"',
    'dynamodb:PutItem FindingHistoryTable',
    'dynamodb:UpdateItem OrgSummaryTable',
  ]);
  expect(grants('GetFindingHistoryFunctionRole')).toEqual([
    'dynamodb:GetItem AuthzTable',
    'dynamodb:Query FindingHistoryTable',
  ]);
  expect(grants('GetOrgSummaryFunctionRole')).toEqual([
    'dynamodb:GetItem AuthzTable',
    'dynamodb:GetItem OrgSummaryTable',
  ]);
  // Each function writes only to its own log group.
  for (const [fn] of functionsAfterGlobals()) {
    const logs = allowed(statementsOwnedBy(roleOf(fn))).filter((s) => actionsOf(s).includes('logs:PutLogEvents'));
    expect(logs.flatMap(resourcesOf).every((value) => isGetAtt(value, `${fn}LogGroup`, 'Arn'))).toBe(true);
  }
});

test('IAM 1.10 no resource policy allows everyone without a condition, and network-interface permissions exist only in VPC mode', () => {
  const openToAll = statementsOfKind('bucket', 'topic', 'vpc-endpoint', 'backup-vault', 'api', 'key')
    .filter(({ statement }) => statement.Effect === 'Allow')
    .filter(({ statement }) =>
      alternatives(statement.Principal).some((p) => p === '*' || (p as { AWS?: unknown }).AWS === '*'),
    )
    .filter(({ statement }) => !statement.Condition || Object.keys(statement.Condition).length === 0);
  expect(openToAll).toEqual([]);

  expect(properties('LambdaVpcAccessPolicy')).toBeDefined();
  expect(logicalIdsOfType('AWS::IAM::ManagedPolicy')).toContain('LambdaVpcAccessPolicy');
  const eniActions = statementsOwnedBy('LambdaVpcAccessPolicy').flatMap(actionsOf);
  expect(eniActions).toEqual(
    expect.arrayContaining([
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
    ]),
  );
  for (const located of allStatements().filter(
    (l) => l.owner !== 'LambdaVpcAccessPolicy' && l.owner !== 'RolePermissionsBoundary',
  )) {
    expect([located.owner, actionsOf(located.statement).filter((a) => a.startsWith('ec2:'))]).toEqual([
      located.owner,
      [],
    ]);
  }
  for (const role of logicalIdsOfType('AWS::IAM::Role')) {
    const managed = properties(role).ManagedPolicyArns;
    if (managed === undefined) continue;
    expect([role, onlyIf(managed)]).toEqual([role, 'UseVpc']);
  }
});

test('IAM 1.11 no principal but the API integration roles (and the scan-runs machine, for the close) may start executions', () => {
  // Whoever may call StartSyncExecution is trusted like the gateway (docs/threat-model.md): it hands the workflow the certificate.
  const starters = statementsOfKind(...IDENTITY_KINDS, 'bucket', 'topic', 'vpc-endpoint', 'backup-vault', 'api', 'key')
    .filter(({ owner }) => owner !== 'RolePermissionsBoundary')
    .filter(
      ({ statement }) =>
        statement.Effect === 'Allow' &&
        actionsOf(statement).some((action) => /^states:(Start|\*)/.test(action) || action === '*'),
    )
    .map(({ owner }) => owner);
  expect(starters.sort()).toEqual(['ApiScanRunsRole', 'ApiStepFunctionsRole', 'ScanRunsStateMachineRole']);
});

test('IAM 1.12 only the GET function reads the page-token secret, which the data key encrypts', () => {
  const readers = statementsOfKind(...IDENTITY_KINDS)
    .filter(({ owner }) => owner !== 'RolePermissionsBoundary')
    .filter(
      ({ statement }) =>
        statement.Effect === 'Allow' && actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
    );
  // GET /vuln/history pages with the same signed tokens.
  expect(readers.map(({ owner }) => owner).sort()).toEqual([
    'GetFindingHistoryFunctionRole',
    'GetFindingsFunctionRole',
  ]);
  const [{ statement }] = readers as [(typeof readers)[number]];
  expect(actionsOf(statement)).toEqual(['secretsmanager:GetSecretValue']);
  expect(resourcesOf(statement).map((value) => isRef(value, 'PageTokenSecret'))).toEqual([true]);
  const decrypt = allowed(statementsOwnedBy('GetFindingsFunctionRole')).filter((candidate) =>
    conditionValues(candidate, 'StringEquals', 'kms:ViaService').some((value) =>
      (subText(value) ?? '').startsWith('secretsmanager.'),
    ),
  );
  expect(decrypt).toHaveLength(1);
  expect(actionsOf(decrypt[0] as PolicyStatement)).toEqual(['kms:Decrypt']);
  expect(
    isRef(
      conditionValues(decrypt[0] as PolicyStatement, 'StringEquals', 'kms:EncryptionContext:SecretARN')[0],
      'PageTokenSecret',
    ),
  ).toBe(true);
  const secret = properties('PageTokenSecret');
  expect(isGetAtt(secret.KmsKeyId, 'DataKey', 'Arn')).toBe(true);
  expect(secret.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
  expect(secret.SecretString).toBeUndefined();
  const getFindings = functionsAfterGlobals().find(([fn]) => fn === 'GetFindingsFunction')?.[1] as {
    Environment: { Variables: Record<string, unknown> };
  };
  expect(isRef(getFindings.Environment.Variables.PAGE_TOKEN_SECRET_ARN, 'PageTokenSecret')).toBe(true);
});
