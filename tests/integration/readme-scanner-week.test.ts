/**
 * The README's "A scanner's week", run as written against the local stack: its two `npm run push`
 * lines (with the system npm) and its curl lines (with the system curl). Only the port and the place
 * of the dev PKI differ (the test stack's own, under a temporary .local/pki).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { startTestStack, type TestStack } from '../support/local-stack';

interface Step {
  comment: string;
  program: 'npm' | 'curl';
  args: string[];
}

/** The week's block: each `# ...` comment, then one command (continued with backslashes). */
function weekSteps(): Step[] {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /## A scanner's week[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block
    .trim()
    .split(/\n\n(?=# )/)
    .map((chunk) => {
      const [comment, ...rest] = chunk.split('\n');
      const command = rest.join('\n').replace(/\\\n\s*/g, ' ').trim();
      // Shell words: single-quoted strings or bare words (the README uses no other quoting).
      const [program, ...args] = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
      return { comment: comment as string, program: program as Step['program'], args };
    });
}

let stack: TestStack;
let workingDir: string;
const run = promisify(execFile);

beforeAll(async () => {
  workingDir = mkdtempSync(join(tmpdir(), 'readme-week-'));
  stack = await startTestStack({ pkiDir: join(workingDir, '.local', 'pki') });
});

afterAll(async () => {
  await stack.close();
  rmSync(workingDir, { recursive: true, force: true });
});

const localArgs = (step: Step) =>
  step.args.map((arg) => arg.replace('https://localhost:3443', `https://localhost:${new URL(stack.url).port}`).replace(/^\.local\/pki\//, `${join(workingDir, '.local', 'pki')}/`));

test("a scanner's week: push, fix, re-scan, push; the fixed ones show as FIXED", async () => {
  const steps = weekSteps();
  expect(steps.map((step) => step.program)).toEqual(['npm', 'npm', 'curl', 'curl']);
  const [monday, friday, fixed, open] = steps as [Step, Step, Step, Step];

  // The gateway runs in this process: the commands must run asynchronously or nothing would answer them.
  const first = await run('npm', localArgs(monday), { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(monday.comment).toContain('exit 0');
  expect(first.stdout).toMatch(/scan run [0-9a-f-]{36}: closed, org org1, scanner inhouse, scanned at 2026-03-02T09:00:00.000Z/);
  expect(first.stdout).toContain('4 findings received: 4 created, 0 updated, 0 unchanged, 0 stale, 0 reopened, 0 fixed');

  const second = await run('npm', localArgs(friday), { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(friday.comment).toContain('2 fixed');
  expect(second.stdout).toContain('2 findings received: 0 created, 2 updated, 0 unchanged, 0 stale, 0 reopened, 2 fixed');

  const get = async (step: Step) => {
    const { stdout } = await run('curl', ['-s', '--max-time', '20', '-w', '\n%{http_code}', ...localArgs(step)], { cwd: workingDir, encoding: 'utf8' });
    const lines = stdout.trimEnd().split('\n');
    return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) as { items: Record<string, unknown>[]; nextToken?: string } };
  };
  const fixedAnswer = await get(fixed);
  expect(fixedAnswer.status).toBe(200);
  expect(fixedAnswer.body.nextToken).toBeUndefined();
  expect(fixedAnswer.body.items.map((item) => [item.VulnID, item.Status, item.FixedAt]).sort()).toEqual([
    ['web-01-openssl', 'FIXED', '2026-03-06T09:00:00.000Z'],
    ['web-01-php', 'FIXED', '2026-03-06T09:00:00.000Z'],
  ]);
  const openAnswer = await get(open);
  expect(openAnswer.status).toBe(200);
  expect(openAnswer.body.items.map((item) => [item.VulnID, item.Status])).toEqual([['web-01-tls10', 'OPEN']]);
});
