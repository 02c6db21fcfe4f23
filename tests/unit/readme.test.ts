/** Every command and file the README shows exists: scripts, events, functions, linked docs. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate, PROJECT_ROOT } from '../../local/cloudformation/template';
import { loadStackTemplate } from '../../local/cloudformation/nested-stacks';
import { DEV_SUBJECTS } from '../../local/pki';

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const scripts = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

test('it starts with the two set-up commands', () => {
  expect(readme.indexOf('npm ci')).toBeGreaterThan(0);
  expect(readme.indexOf('npm ci')).toBeLessThan(readme.indexOf('npm start'));
  expect(readme.slice(0, readme.indexOf('## '))).toMatch(/```sh\nnpm ci\nnpm start\n```/);
});

test('every npm script it mentions exists', () => {
  const mentioned = [...readme.matchAll(/npm run ([a-z:]+)/g)].map((match) => match[1] as string);
  expect(mentioned.length).toBeGreaterThan(5);
  for (const name of mentioned) expect(Object.keys(scripts)).toContain(name);
  expect(scripts.start).toBeDefined();
  expect(scripts.test).toBeDefined();
});

test('every sam local invoke names a template function and an existing event', () => {
  const invocations = [...readme.matchAll(/sam local invoke (\w+) -e (events\/[\w.-]+)/g)];
  const functions = Object.entries(loadTemplate().Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Serverless::Function')
    .map(([id]) => id);
  expect(invocations.map((match) => match[1]).sort()).toEqual([...functions].sort());
  for (const [, , event] of invocations) expect(existsSync(join(PROJECT_ROOT, event as string))).toBe(true);
});

test('every linked document exists', () => {
  for (const [, target] of readme.matchAll(/\]\(([^)#]+)\)/g))
    expect(existsSync(join(PROJECT_ROOT, target as string))).toBe(true);
});

test("the deploy section lists exactly the template's parameters without a default", () => {
  // Reading the whole stack (template.yaml with nested/ inlined) fails where a nested parameter has no default and is not passed.
  const stack = loadStackTemplate();
  const required = Object.entries(stack.Parameters ?? {})
    .filter(([, parameter]) => (parameter as { Default?: unknown }).Default === undefined)
    .map(([name]) => name);
  const listed = /with the parameters that have no default \(([^)]*)\)/.exec(readme)?.[1] ?? '';
  expect([...listed.matchAll(/`(\w+)`/g)].map((match) => match[1]).sort()).toEqual(required.sort());
  expect(required.length).toBeGreaterThan(0);
});

test('every npm run invoke names a template function and an existing event, as every sam local invoke does', () => {
  const invocations = [...readme.matchAll(/npm run invoke -- (\w+) -e (events\/[\w.-]+)/g)];
  const functions = Object.entries(loadTemplate().Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Serverless::Function')
    .map(([id]) => id);
  expect([...new Set(invocations.map((match) => match[1]))].sort()).toEqual([...functions].sort());
  for (const [, , event] of invocations) expect(existsSync(join(PROJECT_ROOT, event as string))).toBe(true);
});

test('it names the reference design it follows', () => {
  const text = readme.replace(/\s+/g, ' ');
  expect(text).toContain('"A secure reference design for a serverless application"');
  expect(text).toContain('"Reference Architecture for a secure Serverless Application"');
});

test('docs/deploy.md grants the OUs the dev certificates, the examples and the events carry', () => {
  const deploy = readFileSync(join(PROJECT_ROOT, 'docs/deploy.md'), 'utf8');
  const granted = [...deploy.matchAll(/authz -- grant --ou (\S+)/g)]
    .map((match) => match[1] as string)
    .filter((ou) => ou !== 'OU');
  const devOus = Object.values(DEV_SUBJECTS).flatMap((subject) => [...(/OU=([^,]+)/.exec(subject) ?? [])].slice(1));
  expect(granted.length).toBeGreaterThan(0);
  for (const ou of granted) expect(devOus).toContain(ou);
});
