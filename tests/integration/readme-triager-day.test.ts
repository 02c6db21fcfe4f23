/**
 * The README's "A triager's day", run as written against the local stack: each step through `bash -c` (the
 * triage steps compute their expiry with `$(date ...)`), with the system npm and curl. Only the port and the
 * place of the dev PKI differ (the test stack's own, under a temporary .local/pki); `npm run authz` finds the
 * test stack's DynamoDB through DYNAMODB_PORT, as a second terminal would through .local/stack.json.
 *
 * The last two steps (GET /vuln/history and GET /vuln/summary) run after the findings stream has been drained:
 * the stream consumer writes the history and the summary a moment after each change.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { DEV_SUBJECTS } from '../../local/pki';
import { localCommand, readmeSteps, type Step } from '../support/readme-steps';
import { portOf, startTestStack, type TestStack } from '../support/local-stack';
import { requireTool } from '../support/tools';

let stack: TestStack;
let workingDir: string;
const run = promisify(execFile);

// Two npm commands (each starts tsx) and a push of a run on a shared 2-core machine.
jest.setTimeout(240_000);

beforeAll(async () => {
  requireTool('curl', ['--version'], 'apt-get install curl');
  workingDir = mkdtempSync(join(tmpdir(), 'readme-triager-'));
  stack = await startTestStack({ pkiDir: join(workingDir, '.local', 'pki') });
});

afterAll(async () => {
  await stack?.close();
  rmSync(workingDir, { recursive: true, force: true });
});

type Item = Record<string, unknown> & { VulnID: string };

/** Runs one step as written in bash; curl steps answer their status and JSON body. */
async function shell(step: Step): Promise<{ stdout: string; status: number; body: unknown }> {
  const command =
    step.program === 'curl'
      ? localCommand(step, stack.url, workingDir).replace(/^curl /, "curl -s --max-time 20 -w '\\n%{http_code}' ")
      : localCommand(step, stack.url, workingDir);
  const { stdout } = await run('bash', ['-c', command], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DYNAMODB_PORT: String(portOf(stack.stack.backend.dynamoDbEndpoint)) },
  });
  if (step.program !== 'curl') return { stdout, status: 0, body: undefined };
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { stdout, status, body: JSON.parse(lines.join('\n')) };
}

const items = (body: unknown) => (body as { items: Item[] }).items;
const ids = (body: unknown) => items(body).map((item) => item.VulnID);

test("a triager's day: grant, push, triage, an acceptance that expires, an SLA and the overdue list", async () => {
  const steps = readmeSteps("## A triager's day");
  expect(steps.map((step) => step.program)).toEqual([
    'npm',
    'npm',
    'curl',
    'curl',
    'curl',
    'curl',
    'curl',
    'curl',
    'npm',
    'curl',
    'curl',
    'curl',
  ]);
  const [grant, push, toFix, triage, afterTriage, acceptBriefly, afterExpiry, overdue, setSla, overdueNow] =
    steps as Step[] as [Step, Step, Step, Step, Step, Step, Step, Step, Step, Step];
  const [history, summary] = steps.slice(10) as [Step, Step];

  expect(grant.command).toBe('npm run authz -- grant --ou triage --methods GET,TRIAGE --orgs org1');
  expect((await shell(grant)).stdout).toContain('added a grant for OU triage: methods=GET,TRIAGE orgs=org1');

  expect((await shell(push)).stdout).toContain(
    '5 findings received: 5 created, 0 updated, 0 unchanged, 0 stale, 0 reopened, 0 fixed',
  );

  // All five, NEW, each due FirstSeen (the May scan) + its severity's default days; INFO has no SLA.
  const listed = await shell(toFix);
  expect(listed.status).toBe(200);
  expect(
    items(listed.body).map((item) => [item.VulnID, item.Severity, item.Workflow, item.Version, item.SlaDueAt]),
  ).toEqual([
    ['app-01-banner', 'INFO', 'NEW', 1, null],
    ['app-01-cookie', 'LOW', 'NEW', 1, '2026-10-31T09:00:00.000Z'],
    ['app-01-jquery', 'MEDIUM', 'NEW', 1, '2026-08-02T09:00:00.000Z'],
    ['app-01-log4j', 'CRITICAL', 'NEW', 1, '2026-05-19T09:00:00.000Z'],
    ['app-01-struts', 'HIGH', 'NEW', 1, '2026-06-03T09:00:00.000Z'],
  ]);
  // The scanner's DueDate stays as sent.
  expect(items(listed.body).find((item) => item.VulnID === 'app-01-log4j')?.DueDate).toBe('2026-05-11');

  const triaged = await shell(triage);
  expect(triage.comment).toMatch(/: 200$/);
  expect(triaged.status).toBe(200);
  expect(triaged.body).toMatchObject({
    org: 'org1',
    processed: [
      { index: 0, vulnId: 'app-01-struts', workflow: 'ACKNOWLEDGED', version: 2 },
      { index: 1, vulnId: 'app-01-banner', workflow: 'FALSE_POSITIVE', version: 2 },
      { index: 2, vulnId: 'app-01-jquery', workflow: 'RISK_ACCEPTED', version: 2 },
    ],
    unprocessed: [],
  });

  const left = await shell(afterTriage);
  expect(items(left.body).map((item) => [item.VulnID, item.Workflow, item.Note])).toEqual([
    ['app-01-cookie', 'NEW', undefined],
    ['app-01-log4j', 'NEW', undefined],
    ['app-01-struts', 'ACKNOWLEDGED', 'patch on Thursday'],
  ]);

  const accepted = await shell(acceptBriefly);
  expect(acceptBriefly.comment).toMatch(/: 200$/);
  expect(accepted.body).toMatchObject({ processed: [{ vulnId: 'app-01-cookie', workflow: 'RISK_ACCEPTED' }] });
  const everything = await stack.request(stack.pki.triager, {
    path: '/vuln?org=org1&asset=app-01.example.com&status=ALL&workflow=ALL',
  });
  const cookie = items(everything.json()).find((item) => item.VulnID === 'app-01-cookie');
  const acceptedUntil = Date.parse(String(cookie?.AcceptedUntil));
  expect(acceptedUntil - Date.now()).toBeLessThanOrEqual(5000);
  const before = Date.now();
  const during = await stack.request(stack.pki.triager, { path: '/vuln?org=org1&asset=app-01.example.com' });
  // Asserted only when the answer surely came before the expiry (`date` truncates to the second: 4 to 5 s ahead).
  if (Date.now() < acceptedUntil) expect(ids(during.json())).not.toContain('app-01-cookie');
  expect(acceptedUntil).toBeGreaterThan(before - 5000);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, acceptedUntil - Date.now() + 100)));

  const back = await shell(afterExpiry);
  expect(items(back.body).find((item) => item.VulnID === 'app-01-cookie')).toMatchObject({
    Workflow: 'NEW',
    AcceptedUntil: new Date(acceptedUntil).toISOString(),
    Justification: 'demo',
  });
  expect(ids(back.body)).toEqual(['app-01-cookie', 'app-01-log4j', 'app-01-struts']);

  // Under the defaults every one of them is past its due time (the README's scan is from May 2026).
  const late = await shell(overdue);
  expect(late.status).toBe(200);
  expect(ids(late.body)).toEqual(['app-01-cookie', 'app-01-log4j', 'app-01-struts']);

  expect((await shell(setSla)).stdout).toContain(
    'set the SLA of org org1: CRITICAL 7 days (was 15 days), LOW none (was 180 days)',
  );
  const lateNow = await shell(overdueNow);
  expect(items(lateNow.body).map((item) => [item.VulnID, item.SlaDueAt])).toEqual([
    ['app-01-log4j', '2026-05-11T09:00:00.000Z'],
    ['app-01-struts', '2026-06-03T09:00:00.000Z'],
  ]);
  const withCookie = await stack.request(stack.pki.triager, { path: '/vuln?org=org1&asset=app-01.example.com' });
  expect(items(withCookie.json()).find((item) => item.VulnID === 'app-01-cookie')?.SlaDueAt).toBeNull();
  // overdue=false: the others (the NOT of the same clauses, on the real server).
  const onTime = await stack.request(stack.pki.triager, {
    path: '/vuln?org=org1&asset=app-01.example.com&overdue=false',
  });
  expect(ids(onTime.json())).toEqual(['app-01-cookie']);

  // The history and the summary are written by the findings stream's consumer, a moment after each change.
  await stack.stack.drainStreams();
  expect(history.command).toContain("'https://localhost:3443/vuln/history?org=org1&vulnId=app-01-struts'");
  const struts = await shell(history);
  expect(struts.status).toBe(200);
  const entries = (struts.body as { items: Record<string, unknown>[] }).items;
  expect(entries.map((entry) => entry.Kind)).toEqual(['triaged', 'created']);
  expect(entries[0]).toMatchObject({ FromWorkflow: 'NEW', ToWorkflow: 'ACKNOWLEDGED' });
  expect(entries[0]?.By).toMatchObject({ subject: DEV_SUBJECTS.triager, serialNumber: stack.pki.triager.serialNumber });

  expect(summary.command).toContain("'https://localhost:3443/vuln/summary?org=org1'");
  const figures = await shell(summary);
  expect(figures.status).toBe(200);
  const counts = (figures.body as { counts: Record<string, Record<string, Record<string, number>>> }).counts;
  // The five findings, OPEN: Struts acknowledged, the banner a false positive, jQuery accepted, the cookie's
  // acceptance run out (NEW again), Log4j NEW.
  const total = Object.values(counts).flatMap((bySeverity) =>
    Object.values(bySeverity).flatMap((byWorkflow) => Object.values(byWorkflow)),
  );
  expect(total.reduce((sum, count) => sum + count, 0)).toBe(5);
  expect(counts.OPEN).toMatchObject({
    HIGH: { ACKNOWLEDGED: 1 },
    INFO: { FALSE_POSITIVE: 1 },
    MEDIUM: { RISK_ACCEPTED: 1 },
    LOW: { NEW: 1 },
    CRITICAL: { NEW: 1 },
  });
});
