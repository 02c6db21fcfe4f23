/**
 * The README's "A scanner's week", run as written against the local stack: its two `npm run push`
 * lines (with the system npm) and its curl lines (with the system curl). Only the port and the place
 * of the dev PKI differ (the test stack's own, under a temporary .local/pki).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { localArgs, readmeSteps, type Step } from '../support/readme-steps';
import { startTestStack, type TestStack } from '../support/local-stack';

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

const stepArgs = (step: Step) => localArgs(step, stack.url, workingDir);

test("a scanner's week: push, fix, re-scan, push; the fixed ones show as FIXED", async () => {
  const steps = readmeSteps("## A scanner's week");
  expect(steps.map((step) => step.program)).toEqual(['npm', 'npm', 'curl', 'curl']);
  const [monday, friday, fixed, open] = steps as [Step, Step, Step, Step];

  // The gateway runs in this process: the commands must run asynchronously or nothing would answer them.
  const first = await run('npm', stepArgs(monday), { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(monday.comment).toContain('exit 0');
  expect(first.stdout).toMatch(
    /scan run [0-9a-f-]{36}: closed, org org1, scanner inhouse, scanned at 2026-03-02T09:00:00.000Z/,
  );
  expect(first.stdout).toContain(
    '4 findings received: 4 created, 0 updated, 0 unchanged, 0 stale, 0 reopened, 0 fixed',
  );

  const second = await run('npm', stepArgs(friday), { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(friday.comment).toContain('2 fixed');
  expect(second.stdout).toContain(
    '2 findings received: 0 created, 2 updated, 0 unchanged, 0 stale, 0 reopened, 2 fixed',
  );

  const get = async (step: Step) => {
    const { stdout } = await run('curl', ['-s', '--max-time', '20', '-w', '\n%{http_code}', ...stepArgs(step)], {
      cwd: workingDir,
      encoding: 'utf8',
    });
    const lines = stdout.trimEnd().split('\n');
    return {
      status: Number(lines.pop()),
      body: JSON.parse(lines.join('\n')) as { items: Record<string, unknown>[]; nextToken?: string },
    };
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
