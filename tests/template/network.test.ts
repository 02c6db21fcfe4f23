/** Network controls: who can reach the API, over what, and where the functions can go. */
import {
  actionsOf,
  alternatives,
  conditionValues,
  functionsAfterGlobals,
  isGetAtt,
  isRef,
  logicalIdsOfType,
  onlyIf,
  openApi,
  properties,
  resource,
  resourcesOf,
  statementsOwnedBy,
  subText,
  template,
  templateRules,
  type PolicyStatement,
} from './support';

test('NET 1.1 the API resource policy allows only AllowedSourceCidrs and explicitly denies every other source IP', () => {
  expect(template.Parameters?.AllowedSourceCidrs?.Type).toBe('CommaDelimitedList');
  const statements = statementsOwnedBy('VulnerabilityApi');
  const invokes = (statement: PolicyStatement) =>
    actionsOf(statement).includes('execute-api:Invoke') && resourcesOf(statement).includes('execute-api:/*');

  const deny = statements.find((s) => s.Effect === 'Deny' && invokes(s) && s.Principal === '*');
  expect(deny).toBeDefined();
  expect(Object.keys(deny?.Condition ?? {})).toEqual(['NotIpAddress']);
  expect(isRef(conditionValues(deny as PolicyStatement, 'NotIpAddress', 'aws:SourceIp')[0], 'AllowedSourceCidrs')).toBe(
    true,
  );

  const allows = statements.filter((s) => s.Effect === 'Allow');
  expect(allows.length).toBeGreaterThan(0);
  for (const allow of allows) {
    expect(invokes(allow)).toBe(true);
    expect(isRef(conditionValues(allow, 'IpAddress', 'aws:SourceIp')[0], 'AllowedSourceCidrs')).toBe(true);
  }
});

test('NET 1.2 the API is served only by the mutual TLS custom domain with TLS 1.2', () => {
  const domain = properties('ApiDomain');
  expect(domain.SecurityPolicy).toBe('TLS_1_2');
  expect(isRef((domain.MutualTlsAuthentication as { TruststoreUri: unknown }).TruststoreUri, 'TruststoreUri')).toBe(
    true,
  );
  expect((domain.EndpointConfiguration as { Types: string[] }).Types).toEqual(['REGIONAL']);
  expect(properties('VulnerabilityApi').DisableExecuteApiEndpoint).toBe(true);
  expect(openApi()['x-amazon-apigateway-endpoint-configuration']).toEqual({ disableExecuteApiEndpoint: true });
  expect(logicalIdsOfType('AWS::ApiGateway::DomainName')).toEqual(['ApiDomain']);
});

test('NET 1.3 every bucket blocks public access, is versioned, owner-enforced, KMS-encrypted and TLS-only', () => {
  const buckets = logicalIdsOfType('AWS::S3::Bucket');
  expect(buckets.length).toBeGreaterThan(0);
  for (const bucket of buckets) {
    const props = properties(bucket);
    expect([bucket, props.PublicAccessBlockConfiguration]).toEqual([
      bucket,
      { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    ]);
    expect([bucket, props.VersioningConfiguration]).toEqual([bucket, { Status: 'Enabled' }]);
    expect([bucket, props.OwnershipControls]).toEqual([
      bucket,
      { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    ]);
    const encryption = (
      props.BucketEncryption as {
        ServerSideEncryptionConfiguration: {
          ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID: unknown };
        }[];
      }
    ).ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault;
    expect(encryption?.SSEAlgorithm).toBe('aws:kms');
    expect(isGetAtt(encryption?.KMSMasterKeyID, 'DataKey', 'Arn')).toBe(true);

    const policies = logicalIdsOfType('AWS::S3::BucketPolicy').filter((policy) =>
      isRef(properties(policy).Bucket, bucket),
    );
    expect([bucket, policies.length]).toEqual([bucket, 1]);
    const tlsOnly = statementsOwnedBy(policies[0] as string).find(
      (s) =>
        s.Effect === 'Deny' &&
        s.Principal === '*' &&
        actionsOf(s).includes('s3:*') &&
        conditionValues(s, 'Bool', 'aws:SecureTransport')[0] === 'false',
    );
    expect(tlsOnly).toBeDefined();
    const covered = resourcesOf(tlsOnly as PolicyStatement).map((value) => subText(value) ?? JSON.stringify(value));
    expect(covered).toEqual(
      expect.arrayContaining([JSON.stringify({ 'Fn::GetAtt': [bucket, 'Arn'] }), `\${${bucket}.Arn}/*`]),
    );
  }
});

test('NET 1.4 VPC mode puts the functions in private subnets with no route to the internet', () => {
  expect(template.Conditions?.UseVpc).toEqual({ 'Fn::Equals': [{ Ref: 'EnableVpc' }, 'true'] });
  for (const type of [
    'AWS::EC2::InternetGateway',
    'AWS::EC2::NatGateway',
    'AWS::EC2::EIP',
    'AWS::EC2::Route',
    'AWS::EC2::VPCGatewayAttachment',
    'AWS::EC2::EgressOnlyInternetGateway',
  ]) {
    expect([type, logicalIdsOfType(type)]).toEqual([type, []]);
  }
  const subnets = logicalIdsOfType('AWS::EC2::Subnet');
  expect(subnets).toHaveLength(2);
  for (const subnet of subnets) {
    expect(resource(subnet).Condition).toBe('UseVpc');
    expect(properties(subnet).MapPublicIpOnLaunch).toBe(false);
  }
  for (const vpcResource of [
    'Vpc',
    'PrivateRouteTable',
    'DynamoDbEndpoint',
    'FunctionSecurityGroup',
    'VpcFlowLog',
    'VpcFlowLogGroup',
    'VpcFlowLogRole',
  ]) {
    expect([vpcResource, resource(vpcResource).Condition]).toEqual([vpcResource, 'UseVpc']);
  }
  expect(templateRules()).toHaveProperty('VpcModeNeedsTheDynamoDbPrefixList');
});

test("NET 1.5 the DynamoDB gateway endpoint lets through only what the functions do on this stack's three tables", () => {
  const endpoint = properties('DynamoDbEndpoint');
  expect(endpoint.VpcEndpointType).toBe('Gateway');
  expect(subText(endpoint.ServiceName)).toBe('com.amazonaws.${AWS::Region}.dynamodb');
  const statements = statementsOwnedBy('DynamoDbEndpoint');
  expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  const byTable = Object.fromEntries(
    statements.map((statement) => {
      const [table] = resourcesOf(statement) as { 'Fn::GetAtt': [string, string] }[];
      expect(resourcesOf(statement)).toHaveLength(1);
      expect(isRef(conditionValues(statement, 'StringEquals', 'aws:PrincipalAccount')[0], 'AWS::AccountId')).toBe(true);
      return [table?.['Fn::GetAtt'][0], actionsOf(statement).sort()];
    }),
  );
  // Whether each function's calls get through is evaluated in iam-evaluation.test.ts; here, nothing more.
  expect(byTable).toEqual({
    FindingsTable: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    AuthzTable: ['dynamodb:GetItem'],
    ScanRunsTable: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    FindingHistoryTable: ['dynamodb:PutItem', 'dynamodb:Query'],
    OrgSummaryTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  });
});

test("NET 1.6 the functions' security group has no inbound rule and only HTTPS out to DynamoDB and Secrets Manager", () => {
  const group = properties('FunctionSecurityGroup');
  expect(group.SecurityGroupIngress).toBeUndefined();
  const egress = group.SecurityGroupEgress as Record<string, unknown>[];
  expect(egress).toHaveLength(1);
  expect(egress[0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
  expect(isRef(egress[0]?.DestinationPrefixListId, 'DynamoDbPrefixListId')).toBe(true);
  expect(egress[0]?.CidrIp).toBeUndefined();
  // The two groups name each other, so these rules stand alone (no circular dependency).
  expect(logicalIdsOfType('AWS::EC2::SecurityGroupEgress')).toEqual(['FunctionEgressToSecretsManager']);
  const toSecrets = properties('FunctionEgressToSecretsManager');
  expect(toSecrets).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
  expect(isRef(toSecrets.GroupId, 'FunctionSecurityGroup')).toBe(true);
  expect(isRef(toSecrets.DestinationSecurityGroupId, 'SecretsManagerEndpointSecurityGroup')).toBe(true);
  expect(logicalIdsOfType('AWS::EC2::SecurityGroupIngress')).toEqual(['SecretsManagerEndpointIngressFromFunctions']);
  const intoEndpoint = properties('SecretsManagerEndpointIngressFromFunctions');
  expect(intoEndpoint).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
  expect(isRef(intoEndpoint.GroupId, 'SecretsManagerEndpointSecurityGroup')).toBe(true);
  expect(isRef(intoEndpoint.SourceSecurityGroupId, 'FunctionSecurityGroup')).toBe(true);
});

test('NET 1.9 the Secrets Manager interface endpoint (private DNS) lets through only reads of the page-token secret', () => {
  const endpoint = properties('SecretsManagerEndpoint');
  expect(endpoint).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
  expect(subText(endpoint.ServiceName)).toBe('com.amazonaws.${AWS::Region}.secretsmanager');
  const statements = statementsOwnedBy('SecretsManagerEndpoint');
  expect(statements).toHaveLength(1);
  const [statement] = statements as [PolicyStatement];
  expect(statement.Effect).toBe('Allow');
  expect(actionsOf(statement)).toEqual(['secretsmanager:GetSecretValue']);
  expect(resourcesOf(statement).map((value) => isRef(value, 'PageTokenSecret'))).toEqual([true]);
  expect(isRef(conditionValues(statement, 'StringEquals', 'aws:PrincipalAccount')[0], 'AWS::AccountId')).toBe(true);
  // Its network interfaces start nothing: the one egress rule matches no packet (the default allows all).
  const egress = properties('SecretsManagerEndpointSecurityGroup').SecurityGroupEgress as Record<string, unknown>[];
  expect(egress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp' })]);
});

test('NET 1.7 VPC flow logs record all traffic into an encrypted log group', () => {
  const flowLog = properties('VpcFlowLog');
  expect(flowLog).toMatchObject({ ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  expect(isRef(flowLog.ResourceId, 'Vpc')).toBe(true);
  expect(isRef(flowLog.LogGroupName, 'VpcFlowLogGroup')).toBe(true);
  expect(isGetAtt(flowLog.DeliverLogsPermissionArn, 'VpcFlowLogRole', 'Arn')).toBe(true);
  expect(isGetAtt(properties('VpcFlowLogGroup').KmsKeyId, 'DataKey', 'Arn')).toBe(true);
});

test('NET 1.8 every function joins the private subnets only when EnableVpc is true', () => {
  for (const [fn, props] of functionsAfterGlobals()) {
    expect([fn, onlyIf(props.VpcConfig)]).toEqual([fn, 'UseVpc']);
    const [config] = alternatives(props.VpcConfig) as { SecurityGroupIds: unknown[]; SubnetIds: unknown[] }[];
    expect(config?.SecurityGroupIds.map((id) => isRef(id, 'FunctionSecurityGroup'))).toEqual([true]);
    expect(config?.SubnetIds.map((id) => (id as { Ref: string }).Ref).sort()).toEqual([
      'PrivateSubnetA',
      'PrivateSubnetB',
    ]);
  }
  expect(resource('LambdaVpcAccessPolicy').Condition).toBe('UseVpc');
});
