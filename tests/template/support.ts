/**
 * What the template tests share: the parsed template and OpenAPI document, every policy statement
 * of the stack wherever it lives (role, managed policy, key, bucket, topic, endpoint, vault, API),
 * and small readers for CloudFormation values. A test names the control; this file knows the shapes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  loadTemplate,
  parseCloudFormation,
  PROJECT_ROOT,
  resourcesOfType,
  type CfnResource,
  type CfnTemplate,
} from '../../local/cloudformation/template';
import { inlineNestedApplications, nestedApplications } from '../../local/cloudformation/nested-stacks';

export { PROJECT_ROOT, resourcesOfType };
export type { CfnResource, CfnTemplate };

/** template.yaml as written: the core resources and one AWS::Serverless::Application per operational layer. */
export const rootTemplate: CfnTemplate = loadTemplate();

/** The whole stack as deployed: the root with every nested layer inlined (tests/template/nested-stacks.ts). */
export const template: CfnTemplate = inlineNestedApplications(rootTemplate, PROJECT_ROOT);

/** Every template file of the stack, relative to the project root: the root first, then each nested layer. */
export const templateFiles: string[] = [
  'template.yaml',
  ...nestedApplications(rootTemplate).map((app) => app.location),
];

export function resource(logicalId: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`the stack (${templateFiles.join(', ')}) has no resource ${logicalId}`);
  return found;
}

export function properties(logicalId: string): Record<string, unknown> {
  return resource(logicalId).Properties ?? {};
}

export function logicalIdsOfType(type: string): string[] {
  return resourcesOfType(template, type).map(([logicalId]) => logicalId);
}

type OpenApiOperation = Record<string, unknown>;
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  [extension: string]: unknown;
}

let openApiCache: OpenApiDocument | undefined;
/** api/openapi.yaml, the body API Gateway imports through AWS::Include. */
export function openApi(): OpenApiDocument {
  openApiCache ??= parseCloudFormation<OpenApiDocument>(
    readFileSync(resolve(PROJECT_ROOT, 'api/openapi.yaml'), 'utf8'),
  );
  return openApiCache;
}

/** The template's Rules section (parameter assertions), which the shared CfnTemplate type leaves out. */
export function templateRules(): Record<string, unknown> {
  return (template as CfnTemplate & { Rules?: Record<string, unknown> }).Rules ?? {};
}

export function readProjectFile(path: string): string {
  return readFileSync(resolve(PROJECT_ROOT, path), 'utf8');
}

// ------------------------------------------------------------------ CloudFormation values

export function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isNoValue(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { Ref?: unknown }).Ref === 'AWS::NoValue';
}

/**
 * Everything a value can become whatever the parameters: both branches of a `Fn::If` (recursively),
 * never `AWS::NoValue`. Lists are flattened, so a statement list with conditional statements reads as
 * the statements it may contain.
 */
export function alternatives(value: unknown): unknown[] {
  if (isNoValue(value)) return [];
  if (Array.isArray(value)) return value.flatMap((item) => alternatives(item));
  if (typeof value === 'object' && value !== null && 'Fn::If' in value) {
    const [, whenTrue, whenFalse] = (value as { 'Fn::If': [string, unknown, unknown] })['Fn::If'];
    return [...alternatives(whenTrue), ...alternatives(whenFalse)];
  }
  return [value];
}

/** The condition name when `value` is `Fn::If [condition, x, AWS::NoValue]` (or the mirror), else undefined. */
export function onlyIf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('Fn::If' in value)) return undefined;
  const [condition, whenTrue, whenFalse] = (value as { 'Fn::If': [string, unknown, unknown] })['Fn::If'];
  return isNoValue(whenFalse) || isNoValue(whenTrue) ? condition : undefined;
}

export function isRef(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && (value as { Ref?: unknown }).Ref === name;
}

export function isGetAtt(value: unknown, logicalId: string, attribute?: string): boolean {
  if (typeof value !== 'object' || value === null || !('Fn::GetAtt' in value)) return false;
  const [name, attr] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
  return name === logicalId && (attribute === undefined || attr === attribute);
}

/** The text of a `Fn::Sub` (either form), or the string itself. */
export function subText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || !('Fn::Sub' in value)) return undefined;
  const argument = (value as { 'Fn::Sub': unknown })['Fn::Sub'];
  if (typeof argument === 'string') return argument;
  return Array.isArray(argument) && typeof argument[0] === 'string' ? argument[0] : undefined;
}

/** Whether `value` mentions `logicalId` anywhere: Ref, GetAtt, or ${logicalId} / ${logicalId.Attr} in a Sub. */
export function mentions(value: unknown, logicalId: string): boolean {
  if (isRef(value, logicalId) || isGetAtt(value, logicalId)) return true;
  const text = subText(value);
  if (text !== undefined && new RegExp(`\\$\\{${logicalId}(\\.[A-Za-z]+)?\\}`).test(text)) return true;
  if (Array.isArray(value)) return value.some((item) => mentions(item, logicalId));
  if (typeof value === 'object' && value !== null)
    return Object.values(value).some((item) => mentions(item, logicalId));
  return false;
}

/** Every string anywhere inside a value (keys excluded). */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap((item) => strings(item));
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap((item) => strings(item));
  return [];
}

// ------------------------------------------------------------------ functions

/**
 * Each AWS::Serverless::Function's properties as SAM deploys them: Globals.Function first, then its own.
 * Pass `samBuiltTemplate(template)` (local/cloudformation/sam-build.ts) to read what `sam build` wrote.
 */
export function functionsAfterGlobals(from: CfnTemplate = template): [string, Record<string, unknown>][] {
  const globals = (from.Globals?.Function ?? {}) as Record<string, unknown>;
  return resourcesOfType(from, 'AWS::Serverless::Function').map(([logicalId, fn]) => {
    const own = fn.Properties ?? {};
    const environment = {
      Variables: {
        ...((globals.Environment as { Variables?: object } | undefined)?.Variables ?? {}),
        ...((own.Environment as { Variables?: object } | undefined)?.Variables ?? {}),
      },
    };
    return [logicalId, { ...globals, ...own, Environment: environment }];
  });
}

// ------------------------------------------------------------------ policies

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Identity policies (what a role may do) versus resource policies (who may touch a resource). */
export type PolicyKind =
  'role' | 'managed-policy' | 'key' | 'bucket' | 'topic' | 'vpc-endpoint' | 'backup-vault' | 'api';
export const IDENTITY_KINDS: readonly PolicyKind[] = ['role', 'managed-policy'];

export interface LocatedStatement {
  /** Logical id of the resource holding the policy. */
  owner: string;
  kind: PolicyKind;
  /** Inline policy name, for roles. */
  policyName?: string;
  statement: PolicyStatement;
}

function statementsOf(document: unknown): PolicyStatement[] {
  return alternatives(document).flatMap((doc) =>
    alternatives((doc as { Statement?: unknown }).Statement),
  ) as PolicyStatement[];
}

/** Every policy statement of the stack, with where it lives; conditional statements included. */
export function allStatements(): LocatedStatement[] {
  const located: LocatedStatement[] = [];
  const add = (owner: string, kind: PolicyKind, document: unknown, policyName?: string) => {
    for (const statement of statementsOf(document)) located.push({ owner, kind, policyName, statement });
  };
  for (const [owner, res] of Object.entries(template.Resources)) {
    const props = res.Properties ?? {};
    switch (res.Type) {
      case 'AWS::IAM::Role':
        for (const policy of alternatives(props.Policies) as { PolicyName?: string; PolicyDocument?: unknown }[]) {
          add(owner, 'role', policy.PolicyDocument, policy.PolicyName);
        }
        break;
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::IAM::Policy':
        add(owner, 'managed-policy', props.PolicyDocument);
        break;
      case 'AWS::KMS::Key':
        add(owner, 'key', props.KeyPolicy);
        break;
      case 'AWS::S3::BucketPolicy':
        add(owner, 'bucket', props.PolicyDocument);
        break;
      case 'AWS::SNS::TopicPolicy':
        add(owner, 'topic', props.PolicyDocument);
        break;
      case 'AWS::EC2::VPCEndpoint':
        add(owner, 'vpc-endpoint', props.PolicyDocument);
        break;
      case 'AWS::Backup::BackupVault':
        add(owner, 'backup-vault', props.AccessPolicy);
        break;
      case 'AWS::Serverless::Api': {
        const auth = props.Auth as { ResourcePolicy?: { CustomStatements?: unknown } } | undefined;
        add(owner, 'api', { Statement: auth?.ResourcePolicy?.CustomStatements });
        break;
      }
      default:
        break;
    }
  }
  return located;
}

export function statementsOfKind(...kinds: PolicyKind[]): LocatedStatement[] {
  return allStatements().filter((located) => kinds.includes(located.kind));
}

/** The statements of one resource's policy (role: all its inline policies). */
export function statementsOwnedBy(owner: string): PolicyStatement[] {
  return allStatements()
    .filter((located) => located.owner === owner)
    .map((located) => located.statement);
}

/** Trust (assume-role) statements of a role. */
export function trustStatements(roleId: string): PolicyStatement[] {
  return statementsOf(properties(roleId).AssumeRolePolicyDocument);
}

export function actionsOf(statement: PolicyStatement): string[] {
  return asList(statement.Action).map(String);
}

export function resourcesOf(statement: PolicyStatement): unknown[] {
  return alternatives(statement.Resource);
}

/** Values of Condition[operator][key], as a list (a Ref to a list parameter stays one item). */
export function conditionValues(statement: PolicyStatement, operator: string, key: string): unknown[] {
  return asList(statement.Condition?.[operator]?.[key]);
}

export function isWildcardAction(action: string): boolean {
  return action.includes('*');
}

/** The key policy statement AWS requires so account IAM policies can grant use of a key. */
export function isAccountRootDelegation(located: LocatedStatement): boolean {
  const principal = located.statement.Principal as { AWS?: unknown } | undefined;
  const text = subText(principal?.AWS);
  return (
    located.kind === 'key' &&
    located.statement.Effect === 'Allow' &&
    text === 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'
  );
}

/**
 * Actions without resource-level permissions (so `Resource: '*'` is the only possible value): X-Ray
 * ingestion, CloudWatch Logs vended delivery, the describe calls Lambda makes for VPC network
 * interfaces, the tag lookup AWS Backup does, and DynamoDB Streams' listing.
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: ReadonlySet<string> = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'tag:GetResources',
  // Lambda's event source mapping lists the findings table's streams (iam-data: no resource type).
  'dynamodb:ListStreams',
]);

/** KMS actions that use key material (as opposed to describing or granting). */
export const KMS_CRYPTOGRAPHIC_ACTIONS: ReadonlySet<string> = new Set([
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
]);

// ------------------------------------------------------------------ alarms

export interface AlarmMetric {
  alarm: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, unknown>;
}

type Dimension = { Name: string; Value: unknown };
const dimensionMap = (dimensions: unknown): Record<string, unknown> =>
  Object.fromEntries((asList(dimensions) as Dimension[]).map((dimension) => [dimension.Name, dimension.Value]));

/** Every metric every alarm watches, whether a single metric or inside metric math. */
export function alarmMetrics(): AlarmMetric[] {
  return resourcesOfType(template, 'AWS::CloudWatch::Alarm').flatMap(([alarm, res]) => {
    const props = res.Properties ?? {};
    if (typeof props.MetricName === 'string') {
      return [
        {
          alarm,
          namespace: String(props.Namespace),
          metricName: props.MetricName,
          dimensions: dimensionMap(props.Dimensions),
        },
      ];
    }
    return (
      asList(props.Metrics) as {
        MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown } };
      }[]
    )
      .filter((query) => query.MetricStat)
      .map((query) => {
        const metric = (query.MetricStat as { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown } })
          .Metric;
        return {
          alarm,
          namespace: metric.Namespace,
          metricName: metric.MetricName,
          dimensions: dimensionMap(metric.Dimensions),
        };
      });
  });
}
