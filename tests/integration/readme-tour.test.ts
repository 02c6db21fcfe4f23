/**
 * The README's tour, run as written: its curl lines, with the system curl, against the local stack
 * (its dev PKI under <dir>/.local/pki, as `npm start` makes it). Only the port differs.
 */
import { requireTool } from '../support/tools';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { startTestStack, type TestStack } from '../support/local-stack';

interface TourStep {
  comment: string;
  expectedStatus: number;
  args: string[];
}

/** The tour block: each `# ... : NNN` comment, then one curl command (continued with backslashes). */
function tourSteps(): TourStep[] {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /## A 60-second tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const steps: TourStep[] = [];
  for (const chunk of block.split(/\n(?=# )/)) {
    const [comment, ...rest] = chunk.split('\n');
    const status = /: (\d{3})\b/.exec(comment ?? '')?.[1];
    const command = rest
      .join('\n')
      .replace(/\\\n\s*/g, ' ')
      .trim();
    if (!status || !command.startsWith('curl ')) continue;
    // Shell words: single-quoted strings or bare words (the README uses no other quoting).
    const args = [...command.slice(5).matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
    steps.push({ comment: comment as string, expectedStatus: Number(status), args });
  }
  return steps;
}

let stack: TestStack;
let workingDir: string;

beforeAll(async () => {
  // The README's paths are relative to the project: .local/pki/<file>.
  workingDir = mkdtempSync(join(tmpdir(), 'readme-tour-'));
  stack = await startTestStack({ pkiDir: join(workingDir, '.local', 'pki') });
});

afterAll(async () => {
  await stack.close();
  rmSync(workingDir, { recursive: true, force: true });
});

test('the tour has its four steps', () => {
  expect(tourSteps().map((step) => step.expectedStatus)).toEqual([200, 200, 403, 403]);
});

// The gateway runs in this process: curl must run asynchronously or nothing would answer it.
const run = promisify(execFile);

beforeAll(() => requireTool('curl', ['--version'], 'apt-get install curl'));

test.each(tourSteps().map((step) => [step.comment, step] as const))('%s', async (_, step) => {
  const port = new URL(stack.url).port;
  const args = step.args.map((arg) => arg.replace('https://localhost:3443', `https://localhost:${port}`));
  const { stdout } = await run('curl', ['-s', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', ...args], {
    cwd: workingDir,
    encoding: 'utf8',
  });
  expect(Number(stdout)).toBe(step.expectedStatus);
});
