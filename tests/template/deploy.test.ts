/** Deploy-time behaviour: what a failed or repeated deploy leaves behind, and the stages SAM creates. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseCloudFormation } from '../../local/cloudformation/template';
import { nestedApplications } from '../../local/cloudformation/nested-stacks';
import {
  logicalIdsOfType,
  openApi,
  properties,
  PROJECT_ROOT,
  readProjectFile,
  resource,
  rootTemplate,
  template,
  type CfnResource,
  type CfnTemplate,
} from './support';

/** The property that names a resource, for the types this stack retains. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Backup::BackupVault': 'BackupVaultName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::KMS::Key': 'KeyId',
  'AWS::SQS::Queue': 'QueueName',
};

/**
 * Where plain `Retain` is needed even on a failed create, because CloudFormation could not delete the
 * resource: a deletion-protected table refuses DeleteTable, and an Object Lock bucket holding a locked
 * log file cannot be emptied. Everything else that holds data uses RetainExceptOnCreate.
 */
function mustAlwaysBeRetained(res: CfnResource): boolean {
  const props = res.Properties ?? {};
  return (
    (res.Type === 'AWS::DynamoDB::Table' && props.DeletionProtectionEnabled === true) ||
    (res.Type === 'AWS::S3::Bucket' && props.ObjectLockEnabled === true)
  );
}

/** A name is new for every stack created: its text uses the stack id, or the physical id of a resource of this stack. */
function isNewPerStack(name: unknown): boolean {
  const argument = (name as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  const [text, variables] =
    typeof argument === 'string'
      ? [argument, {}]
      : Array.isArray(argument)
        ? (argument as [string, Record<string, unknown>])
        : ['', {}];
  const used = [...text.matchAll(/\$\{([^}]+)\}/g)].map((match) => match[1] as string);
  return used.some(
    (variable) => variable in template.Resources || JSON.stringify(variables[variable] ?? '').includes('AWS::StackId'),
  );
}

const retained = () =>
  Object.entries(template.Resources).filter(
    ([, res]) => res.DeletionPolicy !== undefined && res.DeletionPolicy !== 'Delete',
  );

test('DEPLOY 1.3 a failed first deploy deletes what it can and a retry never collides with what a failed or deleted stack left', () => {
  expect(retained().length).toBeGreaterThanOrEqual(10);
  for (const [id, res] of retained()) {
    expect([id, res.DeletionPolicy]).toEqual([id, mustAlwaysBeRetained(res) ? 'Retain' : 'RetainExceptOnCreate']);
    expect([id, res.UpdateReplacePolicy]).toEqual([id, 'Retain']);
    const nameProperty = NAME_PROPERTY[res.Type];
    expect([id, nameProperty === undefined ? `no name property known for ${res.Type}` : 'known']).toEqual([
      id,
      'known',
    ]);
    const name = (res.Properties ?? {})[nameProperty as string];
    expect([id, name === undefined || isNewPerStack(name)]).toEqual([id, true]);
  }
  // Data stays when the stack is deleted: the tables, their key, the recovery points, the logs and the trail.
  for (const id of [
    'FindingsTable',
    'AuthzTable',
    'DataKey',
    'BackupVault',
    'LogBucket',
    ...logicalIdsOfType('AWS::Logs::LogGroup'),
  ]) {
    expect([id, resource(id).DeletionPolicy]).toEqual([id, expect.stringMatching(/^Retain/)]);
  }
});

test('DEPLOY 1.4 SAM creates only the StageName stage, not its extra stage named "Stage"', () => {
  // Any OpenApiVersion on an AWS::Serverless::Api stops SAM from adding the stage "Stage"
  // ("AWS::Serverless::Api", AWS SAM Developer Guide, property OpenApiVersion).
  const globalVersion = (template.Globals?.Api as { OpenApiVersion?: unknown } | undefined)?.OpenApiVersion;
  const apis = logicalIdsOfType('AWS::Serverless::Api');
  expect(apis.length).toBeGreaterThan(0);
  for (const api of apis) {
    const version = properties(api).OpenApiVersion ?? globalVersion;
    expect([api, version]).toEqual([api, openApi().openapi]);
  }
  expect(logicalIdsOfType('AWS::ApiGateway::Stage')).toEqual([]);
});

test('DEPLOY 1.5 template.yaml holds the core and nests each operational layer as a local application', () => {
  // The core stays in the root, where the local stack reads it (local/template.ts).
  for (const type of [
    'AWS::Serverless::Function',
    'AWS::Serverless::StateMachine',
    'AWS::Serverless::Api',
    'AWS::DynamoDB::Table',
    'AWS::KMS::Key',
  ]) {
    const everywhere = logicalIdsOfType(type);
    expect([type, everywhere.length > 0, everywhere.filter((id) => !(id in rootTemplate.Resources))]).toEqual([
      type,
      true,
      [],
    ]);
  }
  // Each layer: a nested application whose template is a plain CloudFormation file of this project
  // (nested-stacks.ts refuses transforms and AWS::StackName, which is the nested stack's own name).
  const layers = Object.fromEntries(nestedApplications(rootTemplate).map((app) => [app.logicalId, app.location]));
  expect(layers).toEqual({
    ApiFirewall: 'nested/firewall.yaml',
    PrivateNetwork: 'nested/network.yaml',
    AuditTrail: 'nested/audit-trail.yaml',
    TableBackups: 'nested/backups.yaml',
    Monitoring: 'nested/monitoring.yaml',
  });
  for (const location of Object.values(layers)) expect(existsSync(join(PROJECT_ROOT, location))).toBe(true);
  const typesIn = (id: string) =>
    new Set(
      Object.values(parseCloudFormation<CfnTemplate>(readProjectFile(layers[id] as string)).Resources).map(
        (res) => res.Type,
      ),
    );
  expect(typesIn('ApiFirewall')).toEqual(
    new Set([
      'AWS::WAFv2::WebACL',
      'AWS::WAFv2::WebACLAssociation',
      'AWS::WAFv2::LoggingConfiguration',
      'AWS::Logs::LogGroup',
    ]),
  );
  expect(typesIn('AuditTrail')).toEqual(
    new Set(['AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'AWS::CloudTrail::Trail']),
  );
  expect([...typesIn('Monitoring')].filter((type) => !/^AWS::(CloudWatch|SNS|XRay|Budgets)::/.test(type))).toEqual([]);
  expect(rootTemplate.Resources.PrivateNetwork?.Condition).toBe('UseVpc');
  expect(rootTemplate.Resources.AuditTrail?.Condition).toBe('ShouldCreateTrail');
});
