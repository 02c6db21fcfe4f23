/**
 * The README's scanner workflow, run as written against the local stack: its `npm run push` line
 * (with the system npm) and its curl lines (with the system curl). Only the port and the place of the
 * dev PKI differ (the test stack's own, under a temporary .local/pki).
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
  workingDir = mkdtempSync(join(tmpdir(), 'readme-scan-'));
  stack = await startTestStack({ pkiDir: join(workingDir, '.local', 'pki') });
});

afterAll(async () => {
  await stack.close();
  rmSync(workingDir, { recursive: true, force: true });
});

const stepArgs = (step: Step) => localArgs(step, stack.url, workingDir);

test('the workflow pushes an export, then reads it back twice', async () => {
  const steps = readmeSteps("## A scanner's workflow");
  expect(steps.map((step) => [step.program, step.args[0]])).toEqual([
    ['npm', 'run'],
    ['curl', '--cacert'],
    ['curl', '--cacert'],
  ]);
  const [push, high, cve] = steps as [Step, Step, Step];

  // The gateway runs in this process: the commands must run asynchronously or nothing would answer them.
  const pushed = await run('npm', stepArgs(push), { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(push.comment).toContain('exit 0');
  expect(pushed.stdout).toContain(
    'parsed 48, sent 48, created 48, updated 0, unchanged 0, stale 0, reopened 0, rejected 0, failed 0',
  );
  // Not a terminal: progress is plain lines.
  expect(pushed.stderr).toContain('pushed 48/48 findings');

  const get = async (step: Step) => {
    const { stdout } = await run('curl', ['-s', '--max-time', '20', '-w', '\n%{http_code}', ...stepArgs(step)], {
      cwd: workingDir,
      encoding: 'utf8',
    });
    const lines = stdout.trimEnd().split('\n');
    return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) as { items: Record<string, unknown>[] } };
  };
  const highAnswer = await get(high);
  expect(highAnswer.status).toBe(200);
  expect(highAnswer.body.items.length).toBe(11);
  expect(new Set(highAnswer.body.items.map((item) => item.Severity))).toEqual(new Set(['HIGH', 'CRITICAL']));

  const cveAnswer = await get(cve);
  expect(cveAnswer.status).toBe(200);
  expect(cveAnswer.body.items).toEqual([
    expect.objectContaining({
      PluginId: 58988,
      Cves: ['CVE-2012-1823'],
      CvssScore: 7.5,
      CvssVersion: '2.0',
      Port: 80,
      Protocol: 'tcp',
      Description: expect.any(String),
      Solution: expect.any(String),
      Evidence: expect.any(String),
      Severity: 'HIGH',
    }),
  ]);
});
