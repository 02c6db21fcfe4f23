/**
 * Names that AWS limits, computed at the longest stack name CloudFormation allows (128 characters, "CreateStack",
 * AWS CloudFormation API Reference: StackName). Each template file is resolved on its own, as CloudFormation
 * runs it: the root with that stack name, each nested layer with its parameters from the root and its own
 * stack name `<root>-<LogicalId>-<13 characters>` (the form CloudFormation gives nested stacks).
 */
import { readProjectFile, rootTemplate, templateFiles, type CfnTemplate } from './support';
import { parseCloudFormation } from '../../local/cloudformation/template';
import { nestedApplications } from '../../local/cloudformation/nested-stacks';

const LONGEST_STACK_NAME = `vuln-${'x'.repeat(118)}-prod`;
const UUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
/** `!Select [0, !Split ['-', !Select [2, !Split ['/', !Ref AWS::StackId]]]]`, as the templates write it. */
const firstBlockOfStackId = {
  'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }],
};

interface NameLimit {
  max: number;
  pattern?: RegExp;
  /** Where AWS documents the limit. */
  source: string;
}

/** Every name property the stack sets, with its service's documented limit, keyed "Type Property[.Sub]". */
const LIMITS: Record<string, NameLimit> = {
  'AWS::Backup::BackupVault BackupVaultName': {
    max: 50,
    pattern: /^[a-zA-Z0-9\-_]{2,50}$/,
    source: 'AWS Backup API Reference, CreateBackupVault: BackupVaultName pattern ^[a-zA-Z0-9\\-\\_]{2,50}$',
  },
  'AWS::Backup::BackupPlan BackupPlan.BackupPlanName': {
    max: 200,
    source: 'AWS Backup API Reference, BackupPlanInput: BackupPlanName, 1 to 200 characters through the API',
  },
  'AWS::Backup::BackupPlan BackupPlan.BackupPlanRule.RuleName': {
    max: 50,
    pattern: /^[a-zA-Z0-9\-_.]{1,50}$/,
    source: 'AWS Backup API Reference, BackupRuleInput: RuleName pattern ^[a-zA-Z0-9\\-\\_\\.]{1,50}$',
  },
  'AWS::Backup::BackupSelection BackupSelection.SelectionName': {
    max: 50,
    pattern: /^[a-zA-Z0-9\-_.]{1,50}$/,
    source: 'AWS Backup API Reference, BackupSelection: SelectionName pattern ^[a-zA-Z0-9\\-\\_\\.]{1,50}$',
  },
  'AWS::CloudTrail::Trail TrailName': {
    max: 128,
    pattern: /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/,
    source: 'AWS CloudTrail API Reference, CreateTrail: Name, 3 to 128 characters, letters, digits, ._-',
  },
  'AWS::WAFv2::WebACL Name': {
    max: 128,
    pattern: /^[\w-]{1,128}$/,
    source: 'AWS WAFV2 API Reference, CreateWebACL: Name pattern ^[\\w\\-]+$, 1 to 128 characters',
  },
  'AWS::WAFv2::WebACL VisibilityConfig.MetricName': {
    max: 128,
    pattern: /^[\w-]+$/,
    source: 'AWS WAFV2 API Reference, VisibilityConfig: MetricName "can be from one to 128 characters long"',
  },
  'AWS::Budgets::Budget Budget.BudgetName': {
    max: 100,
    source: 'AWS Budgets API Reference, Budget: BudgetName, 1 to 100 characters',
  },
  'AWS::SNS::Topic DisplayName': {
    max: 100,
    source: 'AWS::SNS::Topic, CloudFormation Template Reference: DisplayName "maximum 100 characters long"',
  },
  'AWS::Logs::LogGroup LogGroupName': {
    max: 512,
    pattern: /^[.\-_/#A-Za-z0-9]{1,512}$/,
    source: 'Amazon CloudWatch Logs API Reference, CreateLogGroup: logGroupName, 1 to 512 characters',
  },
  'AWS::KMS::Alias AliasName': {
    max: 256,
    pattern: /^alias\/[a-zA-Z0-9/_-]+$/,
    source: 'AWS KMS API Reference, CreateAlias: AliasName, 1 to 256 characters, alias/ then [a-zA-Z0-9/_-]',
  },
  'AWS::CloudWatch::Dashboard DashboardName': {
    max: 255,
    pattern: /^[\w-]+$/,
    source: 'Amazon CloudWatch API Reference, PutDashboard: DashboardName up to 255 characters, A-Za-z0-9-_',
  },
  'AWS::XRay::Group GroupName': {
    max: 32,
    source: 'AWS X-Ray API Reference, CreateGroup: GroupName, 1 to 32 characters',
  },
  'AWS::XRay::SamplingRule SamplingRule.RuleName': {
    max: 32,
    source: 'AWS X-Ray API Reference, SamplingRule: RuleName, 1 to 32 characters',
  },
  'AWS::IAM::Role Policies.PolicyName': {
    max: 128,
    pattern: /^[\w+=,.@-]+$/,
    source: 'AWS IAM API Reference, PutRolePolicy: PolicyName, 1 to 128 characters [\\w+=,.@-]',
  },
  'AWS::EC2::VPC Tags.Value': { max: 256, source: 'Amazon EC2 API Reference, Tag: Value, up to 256 characters' },
  'AWS::EC2::Subnet Tags.Value': { max: 256, source: 'Amazon EC2 API Reference, Tag: Value, up to 256 characters' },
  'AWS::EC2::RouteTable Tags.Value': { max: 256, source: 'Amazon EC2 API Reference, Tag: Value, up to 256 characters' },
  'AWS::EC2::SecurityGroup Tags.Value': {
    max: 256,
    source: 'Amazon EC2 API Reference, Tag: Value, up to 256 characters',
  },
  'AWS::Backup::BackupVault BackupVaultTags.StackName': {
    max: 256,
    source: 'AWS Backup API Reference, CreateBackupVault: BackupVaultTags values, up to 256 characters',
  },
};

/**
 * Name properties that have no documented length limit, or are not names AWS keeps (a Lambda permission's
 * function ARN, a nested application's parameters).
 */
const UNLIMITED = new Set([
  // CreateRestApi: name is a required string with no documented length or pattern.
  'AWS::Serverless::Api Name',
  'AWS::Lambda::Permission FunctionName',
  // The operator's own DNS name (a parameter), and the mapping's reference to it.
  'AWS::ApiGateway::DomainName DomainName',
  'AWS::ApiGateway::BasePathMapping DomainName',
  'AWS::Serverless::Application Parameters',
]);

const isIntrinsic = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).some((key) => key === 'Ref' || key.startsWith('Fn::'));

/** Whether a value uses the stack's name or id (in a nested layer, the root's name arrives as `StackName`). */
function growsWithTheStack(value: unknown): boolean {
  const text = JSON.stringify(value);
  return /AWS::StackName|AWS::StackId|\$\{StackName\}|"Ref":"StackName"/.test(text);
}

interface NamedValue {
  key: string;
  value: unknown;
}

/** Every `…Name` property and tag value of a resource, keyed "Type Property[.Sub]". */
function namedValues(type: string, properties: Record<string, unknown>): NamedValue[] {
  const found: NamedValue[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, path);
      return;
    }
    if (typeof value !== 'object' || value === null || isIntrinsic(value)) return;
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const here = [...path, key].join('.');
      // A dashboard body's variables and metric dimensions are not resource names.
      if (['DashboardBody', 'Dimensions', 'DefinitionSubstitutions'].includes(key)) continue;
      if (key === 'Tags' && Array.isArray(item)) {
        for (const tag of item as { Value: unknown }[]) found.push({ key: `${type} ${here}.Value`, value: tag.Value });
      } else if (key === 'BackupVaultTags') {
        for (const [tag, tagValue] of Object.entries(item as object)) {
          found.push({ key: `${type} ${here}.${tag}`, value: tagValue });
        }
      } else if (key === 'Parameters' && type === 'AWS::Serverless::Application') {
        found.push({ key: `${type} ${here}`, value: item });
      } else if (/Name$/.test(key) && (typeof item === 'string' || isIntrinsic(item))) {
        found.push({ key: `${type} ${here}`, value: item });
      } else {
        walk(item, [...path, key]);
      }
    }
  };
  walk(properties, []);
  return found;
}

/** A value at deploy time, for the intrinsics names use: Ref, Fn::Sub, Fn::Select, Fn::Split, Fn::Join. */
class NameResolver {
  constructor(
    private readonly template: CfnTemplate,
    private readonly pseudo: Record<string, string>,
    private readonly parameters: Record<string, unknown>,
  ) {}

  private ref(name: string): unknown {
    if (name in this.pseudo) return this.pseudo[name];
    if (name in this.parameters) return this.parameters[name];
    const parameter = this.template.Parameters?.[name];
    if (parameter && 'Default' in parameter) return parameter.Default;
    const resource = this.template.Resources[name];
    // A REST API id is 10 characters (API Gateway's restapi ids, e.g. "a1b2c3d4e5").
    if (resource?.Type === 'AWS::Serverless::Api') return 'a1b2c3d4e5';
    throw new Error(`cannot size Ref ${name}`);
  }

  resolve(value: unknown): unknown {
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    const [key, argument] = Object.entries(value as Record<string, unknown>)[0] as [string, unknown];
    switch (key) {
      case 'Ref':
        return this.ref(argument as string);
      case 'Fn::Sub': {
        const [text, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, object]);
        const bound = Object.fromEntries(
          Object.entries(variables).map(([name, item]) => [name, this.resolve(item)]),
        ) as Record<string, unknown>;
        return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
          String(name in bound ? bound[name] : this.ref(name)),
        );
      }
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, text] = argument as [string, unknown];
        return String(this.resolve(text)).split(separator);
      }
      case 'Fn::Join': {
        const [separator, list] = argument as [string, unknown];
        return (this.resolve(list) as unknown[]).join(separator);
      }
      default:
        throw new Error(`cannot size ${key}`);
    }
  }
}

const stackId = (name: string) => `arn:aws:cloudformation:ap-southeast-4:123456789012:stack/${name}/${UUID}`;
const pseudo = (name: string) => ({
  'AWS::StackName': name,
  'AWS::StackId': stackId(name),
  'AWS::Region': 'ap-southeast-4',
  'AWS::AccountId': '123456789012',
  'AWS::Partition': 'aws',
});

interface ResolvedName {
  file: string;
  logicalId: string;
  key: string;
  value: string;
}

/** Every name of every file, resolved at the longest stack name. */
function resolvedNames(stackName: string): ResolvedName[] {
  const root = new NameResolver(rootTemplate, pseudo(stackName), {});
  const contexts: [string, CfnTemplate, NameResolver][] = [['template.yaml', rootTemplate, root]];
  for (const application of nestedApplications(rootTemplate)) {
    const nested = parseCloudFormation(readProjectFile(application.location));
    const parameters = (rootTemplate.Resources[application.logicalId]?.Properties?.Parameters ?? {}) as Record<
      string,
      unknown
    >;
    // Only the parameters a name may use are resolved (an ARN from a GetAtt is never part of a name).
    const resolvable = Object.fromEntries(
      Object.entries(parameters).flatMap(([name, value]) => {
        try {
          return [[name, root.resolve(value)]];
        } catch {
          return [];
        }
      }),
    );
    const nestedName = `${stackName}-${application.logicalId}-ABCDEFGHIJKLM`;
    contexts.push([application.location, nested, new NameResolver(nested, pseudo(nestedName), resolvable)]);
  }
  return contexts.flatMap(([file, template, resolver]) =>
    Object.entries(template.Resources).flatMap(([logicalId, resource]) =>
      namedValues(resource.Type, resource.Properties ?? {})
        // A name with a recorded limit, or any name that grows with the stack (then it must have one).
        .filter((named) => !UNLIMITED.has(named.key) && (named.key in LIMITS || growsWithTheStack(named.value)))
        .map((named) => {
          try {
            return { file, logicalId, key: named.key, value: String(resolver.resolve(named.value)) };
          } catch (error) {
            return { file, logicalId, key: named.key, value: `(${(error as Error).message})` };
          }
        }),
    ),
  );
}

test('DEPLOY 1.7 every name AWS limits fits at the longest stack name CloudFormation allows', () => {
  expect(LONGEST_STACK_NAME).toHaveLength(128);
  expect(templateFiles.length).toBeGreaterThan(1);
  const names = resolvedNames(LONGEST_STACK_NAME);
  // The vault, the trail, the web ACL, the budget, the log groups, the alias, the dashboard, X-Ray: all seen.
  for (const key of [
    'AWS::Backup::BackupVault BackupVaultName',
    'AWS::CloudTrail::Trail TrailName',
    'AWS::WAFv2::WebACL Name',
    'AWS::Budgets::Budget Budget.BudgetName',
    'AWS::Logs::LogGroup LogGroupName',
    'AWS::XRay::Group GroupName',
  ]) {
    expect(names.map((name) => name.key)).toContain(key);
  }
  const faults = names.flatMap(({ file, logicalId, key, value }) => {
    const limit = LIMITS[key];
    if (!limit) return [`${file} ${logicalId}: no documented limit recorded for ${key}`];
    const tooLong = value.length > limit.max ? [`${value.length} > ${limit.max} characters`] : [];
    const badPattern = limit.pattern && !limit.pattern.test(value) ? [`does not match ${String(limit.pattern)}`] : [];
    return [...tooLong, ...badPattern].map(
      (fault) => `${file} ${logicalId} ${key} "${value}": ${fault} (${limit.source})`,
    );
  });
  expect(faults).toEqual([]);

  // The check itself sees a name that grows with the stack name: the vault name of before
  // ("<stack>-tables-<8 hex>") is over 50 characters past a 34-character stack name.
  const vault = (stackName: string) =>
    String(
      new NameResolver({ Resources: {} }, pseudo(stackName), {}).resolve({
        'Fn::Sub': ['${AWS::StackName}-tables-${StackId}', { StackId: firstBlockOfStackId }],
      }),
    );
  const limit = LIMITS['AWS::Backup::BackupVault BackupVaultName'] as NameLimit;
  expect(vault('s'.repeat(34)).length).toBeLessThanOrEqual(limit.max);
  expect(vault('s'.repeat(35)).length).toBeGreaterThan(limit.max);
  expect(limit.pattern?.test(vault(LONGEST_STACK_NAME))).toBe(false);
});
