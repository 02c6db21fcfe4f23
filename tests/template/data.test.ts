/** Data controls: the customer managed key, the tables, and their backups. */
import {
  actionsOf,
  alarmMetrics,
  alternatives,
  conditionValues,
  isGetAtt,
  isRef,
  logicalIdsOfType,
  properties,
  resource,
  statementsOwnedBy,
  subText,
  template,
  type PolicyStatement,
} from './support';

const keyStatements = () => statementsOwnedBy('DataKey');
const bySid = (sid: string) => keyStatements().find((statement) => statement.Sid === sid) as PolicyStatement;

test('DATA 1.1 a customer managed key with rotation, kept when the stack goes, with an alias', () => {
  expect(logicalIdsOfType('AWS::KMS::Key')).toEqual(['DataKey']);
  expect(properties('DataKey').EnableKeyRotation).toBe(true);
  expect(resource('DataKey')).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
  expect(isRef(properties('DataKeyAlias').TargetKeyId, 'DataKey')).toBe(true);
});

test('DATA 1.2 the key policy denies disabling, deleting and re-policying the key to everyone but KeyAdminPrincipalArns', () => {
  const denies = keyStatements().filter((statement) => statement.Effect === 'Deny');
  const guarding = denies.filter((statement) =>
    ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy'].every((action) =>
      actionsOf(statement).includes(action),
    ),
  );
  expect(guarding).toHaveLength(1);
  const [deny] = guarding as [PolicyStatement];
  expect(actionsOf(deny)).toEqual(expect.arrayContaining(['kms:DisableKeyRotation', 'kms:DeleteImportedKeyMaterial']));
  expect(deny.Principal).toEqual({ AWS: '*' });
  // The only exception is the named administrators, matched on the caller's principal ARN.
  expect(Object.keys(deny.Condition ?? {})).toEqual(['ArnNotLike']);
  expect(Object.keys(deny.Condition?.ArnNotLike ?? {})).toEqual(['aws:PrincipalArn']);
  expect(isRef(conditionValues(deny, 'ArnNotLike', 'aws:PrincipalArn')[0], 'KeyAdminPrincipalArns')).toBe(true);
  expect(template.Parameters?.KeyAdminPrincipalArns).toMatchObject({ Type: 'CommaDelimitedList' });
  expect(template.Parameters?.KeyAdminPrincipalArns?.Default).toBeUndefined();
});

test('DATA 1.3 AWS services may use the key only for this stack: logs by encryption context, the trail by source ARN', () => {
  const services = keyStatements()
    .filter((statement) => statement.Effect === 'Allow')
    .map(
      (statement) =>
        subText((statement.Principal as { Service?: unknown }).Service) ??
        (statement.Principal as { AWS?: unknown }).AWS,
    );
  expect(services).toEqual(
    expect.arrayContaining([
      'logs.${AWS::Region}.amazonaws.com',
      'cloudwatch.amazonaws.com',
      'cloudtrail.amazonaws.com',
      'budgets.amazonaws.com',
    ]),
  );

  const logs = bySid('CloudWatchLogsEncryptsThisStacksLogGroups');
  const contexts = conditionValues(logs, 'ArnLike', 'kms:EncryptionContext:aws:logs:arn').map(
    (value) => subText(value) as string,
  );
  expect(contexts.length).toBeGreaterThan(0);
  for (const context of contexts)
    expect(context).toMatch(/^arn:\$\{AWS::Partition\}:logs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:log-group:.+/);
  expect(contexts.filter((context) => !context.includes('${AWS::StackName}'))).toEqual([
    'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:API-Gateway-Execution-Logs_*',
  ]);

  const trail = bySid('CloudTrailEncryptsThisStacksTrail');
  expect(subText(conditionValues(trail, 'StringEquals', 'aws:SourceArn')[0])).toBe(
    'arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/vuln-api-trail-${StackId}',
  );
  expect(actionsOf(trail)).toEqual(['kms:GenerateDataKey']);
  for (const service of ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']) {
    const statement = keyStatements().find(
      (s) => (s.Principal as { Service?: unknown }).Service === service,
    ) as PolicyStatement;
    expect(actionsOf(statement).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  }
});

test('DATA 1.4 every table is encrypted with the key, recoverable to any point in time, deletion-protected and retained', () => {
  const tables = logicalIdsOfType('AWS::DynamoDB::Table');
  expect(tables.sort()).toEqual([
    'AuthzTable',
    'FindingHistoryTable',
    'FindingsTable',
    'OrgSummaryTable',
    'ScanRunsTable',
  ]);
  for (const table of tables) {
    const props = properties(table);
    expect([table, props.SSESpecification]).toEqual([
      table,
      { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': ['DataKey', 'Arn'] } },
    ]);
    expect([table, props.PointInTimeRecoverySpecification]).toEqual([table, { PointInTimeRecoveryEnabled: true }]);
    expect([table, props.DeletionProtectionEnabled]).toEqual([table, true]);
    expect([table, resource(table).DeletionPolicy, resource(table).UpdateReplacePolicy]).toEqual([
      table,
      'Retain',
      'Retain',
    ]);
  }
});

test('DATA 1.5 backups land in a vault encrypted with the key whose recovery points only key administrators may delete', () => {
  const vault = properties('BackupVault');
  expect(isGetAtt(vault.EncryptionKeyArn, 'DataKey', 'Arn')).toBe(true);
  expect(resource('BackupVault')).toMatchObject({
    DeletionPolicy: 'RetainExceptOnCreate',
    UpdateReplacePolicy: 'Retain',
  });
  const deny = statementsOwnedBy('BackupVault').find(
    (statement) => statement.Effect === 'Deny' && actionsOf(statement).includes('backup:DeleteRecoveryPoint'),
  );
  expect(deny).toBeDefined();
  expect(
    isRef(conditionValues(deny as PolicyStatement, 'ArnNotLike', 'aws:PrincipalArn')[0], 'KeyAdminPrincipalArns'),
  ).toBe(true);
});

/** A value as CloudFormation reads it when the named conditions have the given truth: their Fn::If branch, no AWS::NoValue. */
function assuming(value: unknown, truths: Record<string, boolean>): unknown {
  if (Array.isArray(value)) return value.map((item) => assuming(item, truths)).filter((item) => item !== undefined);
  if (typeof value !== 'object' || value === null) return value;
  if (isRef(value, 'AWS::NoValue')) return undefined;
  const branches = (value as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If'];
  if (branches && branches[0] in truths) return assuming(truths[branches[0]] ? branches[1] : branches[2], truths);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => [key, assuming(item, truths)] as const)
      .filter(([, item]) => item !== undefined),
  );
}

/** The Allow statements of a role's inline policies or of a managed policy, under the given condition truths. */
function allowsAssuming(owner: string, truths: Record<string, boolean>): PolicyStatement[] {
  const props = assuming(properties(owner), truths) as {
    Policies?: { PolicyDocument: { Statement: PolicyStatement[] } }[];
    PolicyDocument?: { Statement: PolicyStatement[] };
  };
  const documents = props.Policies?.map((policy) => policy.PolicyDocument) ?? [props.PolicyDocument];
  return documents
    .flatMap((document) => document?.Statement ?? [])
    .flatMap((statement) => alternatives(statement) as PolicyStatement[])
    .filter((statement) => statement.Effect === 'Allow');
}

test("DATA 1.6 daily backups keep BackupRetentionDays in this region's vault and, with BackupCopyVaultArn, a copy there (DP 1.3)", () => {
  // The copy is optional: empty by default, and every copy resource hangs on that one parameter.
  const parameter = template.Parameters?.BackupCopyVaultArn as { Default?: unknown; AllowedPattern?: string };
  expect(parameter.Default).toBe('');
  const pattern = new RegExp(parameter.AllowedPattern as string);
  expect('').toMatch(pattern);
  expect('arn:aws:backup:eu-west-1:123456789012:backup-vault:tables-copy').toMatch(pattern);
  expect('arn:aws:s3:::a-bucket').not.toMatch(pattern);
  expect(template.Conditions?.HasBackupCopy).toEqual({
    'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'BackupCopyVaultArn' }, ''] }],
  });

  const copyActions = ['backup:CopyFromBackupVault', 'backup:StartCopyJob'];
  for (const copying of [false, true]) {
    const truths = { HasBackupCopy: copying };
    const plan = (
      assuming(properties('BackupPlan'), truths) as { BackupPlan: { BackupPlanRule: Record<string, unknown>[] } }
    ).BackupPlan.BackupPlanRule;
    expect(plan).toHaveLength(1);
    const [rule] = plan as [Record<string, unknown>];
    expect(rule.ScheduleExpression).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    expect(isRef(rule.TargetBackupVault, 'BackupVault')).toBe(true);
    expect(isRef((rule.Lifecycle as { DeleteAfterDays: unknown }).DeleteAfterDays, 'BackupRetentionDays')).toBe(true);
    expect(rule.CopyActions).toEqual(
      copying
        ? [
            {
              DestinationBackupVaultArn: { Ref: 'BackupCopyVaultArn' },
              Lifecycle: { DeleteAfterDays: { Ref: 'BackupRetentionDays' } },
            },
          ]
        : undefined,
    );
    // Neither the backup role nor the boundary may start copies themselves, and the copy jobs of the plan
    // (which run with the backup role, under the boundary) may write into this region's vaults and, only when
    // one is given, the destination vault: IAM allows what both allow.
    for (const owner of ['BackupRole', 'RolePermissionsBoundary']) {
      const allows = allowsAssuming(owner, truths);
      expect([owner, allows.flatMap(actionsOf).filter((action) => copyActions.includes(action))]).toEqual([owner, []]);
      const vaults = allows
        .filter((statement) => actionsOf(statement).includes('backup:CopyIntoBackupVault'))
        .flatMap((statement) => alternatives(statement.Resource));
      const elsewhere = vaults.filter(
        (vault) =>
          !isGetAtt(vault, 'BackupVault', 'BackupVaultArn') &&
          !(subText(vault) ?? '').startsWith('arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:'),
      );
      expect([owner, copying, elsewhere]).toEqual([owner, copying, copying ? [{ Ref: 'BackupCopyVaultArn' }] : []]);
    }
    // A failed copy job raises an alarm on the stack's topic the day it happens.
    const alarm = resource('BackupCopyJobsFailedAlarm');
    expect(alarm.Condition).toBe('HasBackupCopy');
  }
  const watched = alarmMetrics().filter((metric) => metric.alarm === 'BackupCopyJobsFailedAlarm');
  expect(watched.map((metric) => [metric.namespace, metric.metricName])).toEqual([
    ['AWS/Backup', 'NumberOfCopyJobsFailed'],
    ['AWS/Backup', 'NumberOfCopyJobsFailed'],
  ]);
  // One series per dimension AWS Backup publishes: the stack's vault (its own output), and the resource type.
  expect(watched.map((metric) => Object.keys(metric.dimensions))).toEqual([['BackupVaultName'], ['ResourceType']]);
  expect(watched[0]?.dimensions.BackupVaultName).toEqual({ Ref: 'BackupVault' });
  expect(watched[1]?.dimensions.ResourceType).toBe('DynamoDB');
  const alarmProps = properties('BackupCopyJobsFailedAlarm');
  expect(alarmProps.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  expect(alarmProps).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
});

test('DATA 1.7 the backup selection covers every table with a dedicated role', () => {
  const selection = properties('BackupSelection').BackupSelection as { IamRoleArn: unknown; Resources: unknown[] };
  expect(isRef(properties('BackupSelection').BackupPlanId, 'BackupPlan')).toBe(true);
  expect(isGetAtt(selection.IamRoleArn, 'BackupRole', 'Arn')).toBe(true);
  const tables = logicalIdsOfType('AWS::DynamoDB::Table');
  expect(selection.Resources).toHaveLength(tables.length);
  for (const table of tables)
    expect([table, selection.Resources.some((value) => isGetAtt(value, table, 'Arn'))]).toEqual([table, true]);
  const trust = (properties('BackupRole').AssumeRolePolicyDocument as { Statement: PolicyStatement[] }).Statement;
  expect(trust.map((statement) => statement.Principal)).toEqual([{ Service: 'backup.amazonaws.com' }]);
  expect(properties('BackupRole').ManagedPolicyArns).toBeUndefined();
});

test('DATA 1.8 the alarm topic is encrypted with the key', () => {
  expect(isGetAtt(properties('AlarmTopic').KmsMasterKeyId, 'DataKey', 'Arn')).toBe(true);
});
