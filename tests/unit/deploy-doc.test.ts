/**
 * docs/deploy.md counts what the template holds: every count of tables or function roles it states is the
 * template's, and its table of service roles lists every role a service other than Lambda assumes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackTemplate } from '../../local/cloudformation/nested-stacks';
import { PROJECT_ROOT, resourcesOfType, type CfnResource } from '../../local/cloudformation/template';

const deploy = readFileSync(join(PROJECT_ROOT, 'docs/deploy.md'), 'utf8');
const stack = loadStackTemplate();

const NUMBERS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];
const numberOf = (word: string) => (/^\d+$/.test(word) ? Number(word) : NUMBERS.indexOf(word.toLowerCase()));

/** The services a role trusts. */
function trustedServices(role: CfnResource): string[] {
  const document = role.Properties?.AssumeRolePolicyDocument as { Statement: { Principal?: { Service?: unknown } }[] };
  return document.Statement.flatMap((statement) => [statement.Principal?.Service ?? []].flat().map(String));
}

const roles = resourcesOfType(stack, 'AWS::IAM::Role');
const functionRoles = roles.filter(([, role]) =>
  trustedServices(role).every((service) => service === 'lambda.amazonaws.com'),
);
const serviceRoles = roles.filter(([, role]) => !functionRoles.some(([, functionRole]) => functionRole === role));

test('docs/deploy.md states the number of tables and function roles the template holds', () => {
  const tables = resourcesOfType(stack, 'AWS::DynamoDB::Table').length;
  const counted = [...deploy.matchAll(/\b(\w+) (tables|function roles)\b/gi)]
    .map((match) => ({ text: match[0], count: numberOf(match[1] as string), of: (match[2] as string).toLowerCase() }))
    .filter((claim) => claim.count >= 0);
  expect(counted.length).toBeGreaterThanOrEqual(2);
  for (const claim of counted) {
    expect([claim.text, claim.count]).toEqual([claim.text, claim.of === 'tables' ? tables : functionRoles.length]);
  }
  // "both" is a count too.
  if (tables !== 2) expect(deploy).not.toMatch(/\bboth tables\b/i);
});

test("docs/deploy.md's service-role table lists every role a service other than Lambda assumes", () => {
  const section = deploy.slice(
    deploy.indexOf('## Service roles'),
    deploy.indexOf('\n## ', deploy.indexOf('## Service roles') + 1),
  );
  const listed = [...section.matchAll(/^\| `(\w+)`/gm)].map((match) => match[1] as string);
  expect(listed.sort()).toEqual(serviceRoles.map(([logicalId]) => logicalId).sort());
  const functionRow = /^\| the (\w+) function roles \| `lambda\.amazonaws\.com` \|/m.exec(section);
  expect(numberOf(functionRow?.[1] ?? '')).toBe(functionRoles.length);
});
