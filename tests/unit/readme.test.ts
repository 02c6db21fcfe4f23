/** Every command and file the README shows exists: scripts, events, functions, linked docs. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate, PROJECT_ROOT } from '../../local/cloudformation/template';

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

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
  const functions = Object.entries(loadTemplate().Resources).filter(([, resource]) => resource.Type === 'AWS::Serverless::Function').map(([id]) => id);
  expect(invocations.map((match) => match[1]).sort()).toEqual([...functions].sort());
  for (const [, , event] of invocations) expect(existsSync(join(PROJECT_ROOT, event as string))).toBe(true);
});

test('every linked document exists', () => {
  for (const [, target] of readme.matchAll(/\]\(([^)#]+)\)/g)) expect(existsSync(join(PROJECT_ROOT, target as string))).toBe(true);
});
