/**
 * What IAM knows about the stack, read from the template as CloudFormation would deploy it (nested
 * layers inlined) and resolved to local ARNs: each role's identity policies (inline `Policies` and
 * `ManagedPolicyArns`) and permissions boundary, the resource policies Lambda builds from
 * `AWS::Lambda::Permission`, the KMS key policies, which tables and secrets each key encrypts, and,
 * when the functions run in the VPC, the VPC endpoints they can reach and those endpoints' policies.
 * Plain JSON, so the DynamoDB-API server's own process gets the same picture as the gateway's.
 */
import { LOCAL_ACCOUNT, LOCAL_API_ID, LOCAL_PARTITION, LOCAL_REGION } from '../aws-local';
import { LocalResolver } from '../cloudformation/intrinsics';
import { inlineNestedApplications } from '../cloudformation/nested-stacks';
import { PROJECT_ROOT, resourcesOfType, type CfnResource, type CfnTemplate } from '../cloudformation/template';
import { localResolver } from '../cloudformation/local-resolver';
import { localTableName } from '../dynamodb/server';
import { localSecretArn } from '../secretsmanager/server';
import { localRoleArn } from './credentials';

export interface PolicyDocument {
  Version?: string;
  Statement: unknown;
}
export interface NamedPolicy {
  name: string;
  policy: PolicyDocument;
}

export interface RoleIam {
  arn: string;
  identityPolicies: NamedPolicy[];
  boundary?: NamedPolicy;
  /** Why the local stack cannot evaluate this role (a policy it cannot read): every call of it is denied. */
  unresolved?: string;
}

/** A service the functions reach from their subnets, through a VPC endpoint. */
export interface EndpointRoute {
  logicalId: string;
  policy: NamedPolicy;
}

export interface StackIam {
  /** Roles by ARN. */
  roles: Record<string, RoleIam>;
  /** Resource policies by resource ARN (functions, keys). */
  resourcePolicies: Record<string, PolicyDocument>;
  /** The KMS key (ARN) that encrypts each table (by name) and each secret (by ARN). */
  keyOf: { tables: Record<string, string>; secrets: Record<string, string> };
  /** Role logical id of each function (by logical id) and each state machine. */
  functionRoles: Record<string, string>;
  stateMachineRoles: Record<string, string>;
  /**
   * Set when the functions run in the private subnets (EnableVpc): the services they can reach,
   * keyed by service name as in `com.amazonaws.REGION.<service>`; any other service cannot be reached.
   */
  vpc?: { routes: Record<string, EndpointRoute> };
}

export const localManagedPolicyArn = (logicalId: string) =>
  `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:policy/${logicalId}`;
export const localKeyArn = (logicalId: string) =>
  `arn:${LOCAL_PARTITION}:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/${logicalId}-local`;
const localLogGroupArn = (logicalId: string) =>
  `arn:${LOCAL_PARTITION}:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:log-group:${logicalId}:*`;
const localSubnetId = (logicalId: string) => `subnet-${logicalId}`;

/** A GetAtt `X.Arn` of a role (`!GetAtt FooRole.Arn`) as the role's logical id. */
function roleLogicalIdOf(value: unknown, where: string): string {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  if (!getAtt || getAtt[1] !== 'Arn') throw new Error(`${where}: Role must be !GetAtt <Role>.Arn for the local stack`);
  return getAtt[0];
}

/**
 * The resolver of IAM documents: the stack's own (tables, secrets, functions, machines, parameters)
 * plus what only IAM documents name (managed policies, keys, log groups, the nested layers' resources).
 */
function iamResolver(stack: CfnTemplate, base: { refs: Record<string, string>; attributes: Record<string, string> }) {
  const refs: Record<string, unknown> = { ...base.refs };
  const attributes = { ...base.attributes };
  // The one parameter without a default that IAM documents use: the key's administrators (none of them local code).
  refs.KeyAdminPrincipalArns ??= [`arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:role/LocalKeyAdministrator`];
  for (const [id, resource] of Object.entries(stack.Resources)) {
    if (resource.Type === 'AWS::IAM::ManagedPolicy') refs[id] = localManagedPolicyArn(id);
    if (resource.Type === 'AWS::KMS::Key') {
      refs[id] = `${id}-local`;
      attributes[`${id}.Arn`] = localKeyArn(id);
    }
    if (resource.Type === 'AWS::Logs::LogGroup') {
      refs[id] ??= id;
      attributes[`${id}.Arn`] = localLogGroupArn(id);
    }
    if (resource.Type === 'AWS::Serverless::Api') refs[id] ??= LOCAL_API_ID;
    if (resource.Type === 'AWS::IAM::Role') attributes[`${id}.Arn`] = localRoleArn(id);
    if (resource.Type.startsWith('AWS::EC2::'))
      refs[id] ??= resource.Type === 'AWS::EC2::Subnet' ? localSubnetId(id) : `${id}-local`;
  }
  return new LocalResolver(stack, { refs: refs as Record<string, string>, attributes });
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * AWS managed policies the local stack knows, with their documented statements. `AWSLambdaDynamoDBExecutionRole`
 * is what SAM attaches to a function's generated role for a `DynamoDB` event ("AWSLambdaDynamoDBExecutionRole",
 * AWS Managed Policy Reference Guide).
 */
const AWS_MANAGED_POLICIES: Record<string, NamedPolicy> = {
  [`arn:${LOCAL_PARTITION}:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole`]: {
    name: 'AWSLambdaDynamoDBExecutionRole',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'dynamodb:DescribeStream',
            'dynamodb:GetRecords',
            'dynamodb:GetShardIterator',
            'dynamodb:ListStreams',
            'logs:CreateLogGroup',
            'logs:CreateLogStream',
            'logs:PutLogEvents',
          ],
          Resource: '*',
        },
      ],
    } as PolicyDocument,
  },
};

function rolesOf(stack: CfnTemplate, resolver: LocalResolver, required: Set<string>): Record<string, RoleIam> {
  const managed = Object.fromEntries(
    resourcesOfType(stack, 'AWS::IAM::ManagedPolicy')
      .filter(([, resource]) => included(resource, resolver))
      .map(([id, resource]) => [
        localManagedPolicyArn(id),
        { name: id, policy: resolver.resolve(resource.Properties?.PolicyDocument) as PolicyDocument },
      ]),
  ) as Record<string, NamedPolicy>;
  Object.assign(managed, AWS_MANAGED_POLICIES);
  const roles: Record<string, RoleIam> = {};
  for (const [id, resource] of resourcesOfType(stack, 'AWS::IAM::Role')) {
    if (!included(resource, resolver)) continue;
    try {
      roles[localRoleArn(id)] = roleOf(id, resource, resolver, managed);
    } catch (error) {
      // The functions' and machines' roles must be read; another role (e.g. one with an AWS managed policy) is denied.
      if (required.has(id)) throw error;
      roles[localRoleArn(id)] = { arn: localRoleArn(id), identityPolicies: [], unresolved: (error as Error).message };
    }
  }
  return roles;
}

function roleOf(
  id: string,
  resource: CfnResource,
  resolver: LocalResolver,
  managed: Record<string, NamedPolicy>,
): RoleIam {
  {
    const properties = resolver.resolve(resource.Properties ?? {}) as {
      Policies?: { PolicyName: string; PolicyDocument: PolicyDocument }[];
      ManagedPolicyArns?: string[];
      PermissionsBoundary?: string;
    };
    const attached = asArray(properties.ManagedPolicyArns).map((arn) => {
      const policy = managed[arn];
      if (!policy) throw new Error(`${id}: the local stack knows no managed policy ${arn}`);
      return policy;
    });
    const boundary = properties.PermissionsBoundary === undefined ? undefined : managed[properties.PermissionsBoundary];
    if (properties.PermissionsBoundary !== undefined && !boundary)
      throw new Error(`${id}: the local stack knows no permissions boundary ${properties.PermissionsBoundary}`);
    return {
      arn: localRoleArn(id),
      identityPolicies: [
        ...asArray(properties.Policies).map((policy) => ({ name: policy.PolicyName, policy: policy.PolicyDocument })),
        ...attached,
      ],
      ...(boundary ? { boundary } : {}),
    };
  }
}

const included = (resource: CfnResource, resolver: LocalResolver) =>
  resource.Condition === undefined || resolver.resolve({ Condition: resource.Condition }) === true;

/**
 * The policy Lambda keeps for a function: one statement per `AWS::Lambda::Permission`, in the form
 * `GetPolicy` returns it (principal, action, the function, `AWS:SourceArn` as ArnLike and
 * `AWS:SourceAccount` as StringEquals). "Viewing resource-based IAM policies in Lambda", Lambda
 * Developer Guide.
 */
function functionPolicies(stack: CfnTemplate, resolver: LocalResolver): Record<string, PolicyDocument> {
  const statements: Record<string, unknown[]> = {};
  for (const [id, resource] of resourcesOfType(stack, 'AWS::Lambda::Permission')) {
    if (!included(resource, resolver)) continue;
    const p = resolver.resolve(resource.Properties ?? {}) as {
      Action: string;
      FunctionName: string;
      Principal: string;
      SourceArn?: string;
      SourceAccount?: string;
    };
    const condition = {
      ...(p.SourceArn ? { ArnLike: { 'AWS:SourceArn': p.SourceArn } } : {}),
      ...(p.SourceAccount ? { StringEquals: { 'AWS:SourceAccount': p.SourceAccount } } : {}),
    };
    (statements[p.FunctionName] ??= []).push({
      Sid: id,
      Effect: 'Allow',
      Principal: p.Principal.includes('.') ? { Service: p.Principal } : { AWS: p.Principal },
      Action: p.Action,
      Resource: p.FunctionName,
      ...(Object.keys(condition).length ? { Condition: condition } : {}),
    });
  }
  return Object.fromEntries(
    Object.entries(statements).map(([arn, statement]) => [arn, { Version: '2012-10-17', Statement: statement }]),
  );
}

type Rule = Record<string, unknown>;
const allowsHttps = (rule: Rule) =>
  rule.IpProtocol === '-1' || (rule.IpProtocol === 'tcp' && Number(rule.FromPort) <= 443 && Number(rule.ToPort) >= 443);

/**
 * The rules of one direction of a security group: inline (`SecurityGroupEgress` / `SecurityGroupIngress`) and
 * standalone (`AWS::EC2::SecurityGroupEgress` / `Ingress`, which two groups naming each other need).
 */
function groupRules(stack: CfnTemplate, resolver: LocalResolver, groupId: string, direction: 'Egress' | 'Ingress') {
  const inline = resourcesOfType(stack, 'AWS::EC2::SecurityGroup')
    .filter(([id]) => resolver.resolve({ Ref: id }) === groupId)
    .flatMap(([, group]) => asArray(resolver.resolve(group.Properties?.[`SecurityGroup${direction}`]) as Rule[]));
  const standalone = resourcesOfType(stack, `AWS::EC2::SecurityGroup${direction}`)
    .filter(([, rule]) => included(rule, resolver))
    .map(([, rule]) => resolver.resolve(rule.Properties ?? {}) as Rule)
    .filter((rule) => rule.GroupId === groupId);
  return [...inline, ...standalone].filter(allowsHttps);
}

/**
 * Where the functions can go from their subnets: one route per VPC endpoint they can reach over HTTPS. A
 * gateway endpoint is reached through its prefix list; an interface endpoint by the SDK's usual host name
 * only with private DNS, and only when the functions' groups may send to its groups and its groups accept
 * them ("Access an AWS service using an interface VPC endpoint", AWS PrivateLink Guide).
 */
function vpcRoutes(stack: CfnTemplate, resolver: LocalResolver): Record<string, EndpointRoute> {
  const routes: Record<string, EndpointRoute> = {};
  const internet =
    resourcesOfType(stack, 'AWS::EC2::NatGateway').length + resourcesOfType(stack, 'AWS::EC2::InternetGateway').length;
  if (internet > 0) throw new Error('the local stack models private subnets without a way to the internet only');
  const globals = (stack.Globals?.Function ?? {}) as { VpcConfig?: unknown };
  const vpcConfig = resolver.resolve(globals.VpcConfig) as { SecurityGroupIds?: string[] } | undefined;
  const functionGroups = asArray(vpcConfig?.SecurityGroupIds);
  const egress = functionGroups.flatMap((group) => groupRules(stack, resolver, group, 'Egress'));
  for (const [id, endpoint] of resourcesOfType(stack, 'AWS::EC2::VPCEndpoint')) {
    if (!included(endpoint, resolver)) continue;
    const p = resolver.resolve(endpoint.Properties ?? {}) as {
      ServiceName: string;
      VpcEndpointType?: string;
      PolicyDocument?: PolicyDocument;
      SecurityGroupIds?: string[];
      PrivateDnsEnabled?: boolean | string;
    };
    const service = p.ServiceName.slice(p.ServiceName.lastIndexOf('.') + 1);
    const endpointGroups = asArray(p.SecurityGroupIds);
    const reachable =
      (p.VpcEndpointType ?? 'Gateway') === 'Gateway'
        ? egress.some((rule) => rule.DestinationPrefixListId !== undefined || rule.CidrIp === '0.0.0.0/0')
        : String(p.PrivateDnsEnabled) === 'true' &&
          egress.some(
            (rule) => endpointGroups.includes(String(rule.DestinationSecurityGroupId)) || rule.CidrIp === '0.0.0.0/0',
          ) &&
          endpointGroups.some((group) =>
            groupRules(stack, resolver, group, 'Ingress').some(
              (rule) => functionGroups.includes(String(rule.SourceSecurityGroupId)) || rule.CidrIp !== undefined,
            ),
          );
    if (!reachable) continue;
    // No PolicyDocument: the default policy, full access ("Control access to VPC endpoints using endpoint policies").
    const policy = p.PolicyDocument ?? {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
    };
    routes[service] = { logicalId: id, policy: { name: id, policy } };
  }
  return routes;
}

export interface StackIamInput {
  /** template.yaml as parsed (loadTemplate). */
  template: CfnTemplate;
  /** The local stack's references (the resolver the functions are built with). */
  references: { refs: Record<string, string>; attributes: Record<string, string> };
  projectRoot?: string;
}

export function stackIam(input: StackIamInput): StackIam {
  const stack = inlineNestedApplications(input.template, input.projectRoot ?? PROJECT_ROOT);
  const resolver = iamResolver(stack, input.references);
  const resourcePolicies: Record<string, PolicyDocument> = functionPolicies(stack, resolver);
  for (const [id, key] of resourcesOfType(stack, 'AWS::KMS::Key'))
    resourcePolicies[localKeyArn(id)] = resolver.resolve(key.Properties?.KeyPolicy) as PolicyDocument;

  const tables: Record<string, string> = {};
  for (const [id, table] of resourcesOfType(stack, 'AWS::DynamoDB::Table')) {
    const sse = resolver.resolve(table.Properties?.SSESpecification ?? {}) as {
      SSEType?: string;
      KMSMasterKeyId?: string;
    };
    if (sse.SSEType === 'KMS' && sse.KMSMasterKeyId) tables[String(resolver.resolve({ Ref: id }))] = sse.KMSMasterKeyId;
  }
  const secrets: Record<string, string> = {};
  for (const [id, secret] of resourcesOfType(stack, 'AWS::SecretsManager::Secret')) {
    const keyId = resolver.resolve(secret.Properties?.KmsKeyId);
    if (typeof keyId === 'string') secrets[String(resolver.resolve({ Ref: id }))] = keyId;
  }
  const functionRoles = Object.fromEntries(
    resourcesOfType(stack, 'AWS::Serverless::Function').map(([id, fn]) => [
      id,
      roleLogicalIdOf(fn.Properties?.Role, id),
    ]),
  );
  const stateMachineRoles = Object.fromEntries(
    resourcesOfType(stack, 'AWS::Serverless::StateMachine').map(([id, machine]) => [
      id,
      roleLogicalIdOf(machine.Properties?.Role, id),
    ]),
  );
  const vpcConfig = resolver.resolve((stack.Globals?.Function as { VpcConfig?: unknown } | undefined)?.VpcConfig);
  return {
    roles: rolesOf(stack, resolver, new Set([...Object.values(functionRoles), ...Object.values(stateMachineRoles)])),
    resourcePolicies,
    keyOf: { tables, secrets },
    functionRoles,
    stateMachineRoles,
    ...(vpcConfig !== undefined ? { vpc: { routes: vpcRoutes(stack, resolver) } } : {}),
  };
}

/**
 * The stack's IAM as the local stack deploys it with these parameter values (tables and secrets by their
 * local names): what the template tests evaluate without starting anything.
 */
export function templateStackIam(template: CfnTemplate, parameterOverrides: Record<string, string> = {}): StackIam {
  const tableNames = Object.fromEntries(
    resourcesOfType(template, 'AWS::DynamoDB::Table').map(([id]) => [id, localTableName(id)]),
  );
  const secretArns = Object.fromEntries(
    resourcesOfType(template, 'AWS::SecretsManager::Secret').map(([id]) => [id, localSecretArn(id)]),
  );
  const resolver = localResolver(template, { parameterOverrides, tableNames, secretArns });
  return stackIam({ template, references: resolver.references });
}
