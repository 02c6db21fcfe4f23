/** Data controls: the customer managed key, the tables, and their backups. */
import {
  actionsOf,
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
  expect(tables.sort()).toEqual(['AuthzTable', 'FindingsTable', 'ScanRunsTable']);
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

test("DATA 1.6 a daily backup plan keeps BackupRetentionDays in this region's vault and copies nowhere else", () => {
  const plan = (properties('BackupPlan').BackupPlan as { BackupPlanRule: Record<string, unknown>[] }).BackupPlanRule;
  expect(plan).toHaveLength(1);
  const [rule] = plan as [Record<string, unknown>];
  expect(rule.ScheduleExpression).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
  expect(isRef(rule.TargetBackupVault, 'BackupVault')).toBe(true);
  expect(isRef((rule.Lifecycle as { DeleteAfterDays: unknown }).DeleteAfterDays, 'BackupRetentionDays')).toBe(true);
  // A copy elsewhere needs settings this stack cannot make or check (docs/deploy.md): none is offered,
  // and neither the backup role nor the boundary may copy out of this region and account.
  expect(rule.CopyActions).toBeUndefined();
  const copyActions = ['backup:CopyFromBackupVault', 'backup:StartCopyJob'];
  for (const owner of ['BackupRole', 'RolePermissionsBoundary']) {
    const statements = statementsOwnedBy(owner).filter((statement) => statement.Effect === 'Allow');
    expect([owner, statements.flatMap(actionsOf).filter((action) => copyActions.includes(action))]).toEqual([
      owner,
      [],
    ]);
    const vaults = statements
      .filter((statement) => actionsOf(statement).includes('backup:CopyIntoBackupVault'))
      .flatMap((statement) => alternatives(statement.Resource));
    for (const vault of vaults)
      expect([
        owner,
        isGetAtt(vault, 'BackupVault', 'BackupVaultArn') ||
          (subText(vault) ?? '').startsWith('arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:'),
      ]).toEqual([owner, true]);
  }
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
