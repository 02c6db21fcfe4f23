/**
 * Scan runs end to end over mutual TLS on the local stack (issue 18): a real export pushed in a run,
 * pushed again a week later with items removed and one host missing (the removed items become FIXED,
 * the missing host's findings stay OPEN), the original again (reopened, counted), then an older scan
 * (all stale, nothing changed), with every receipt read. Plus: a re-sent batch counts once, a batch
 * for a completed run is 409, completing twice is harmless, and only the opener and GET-granted
 * certificates see a receipt; everyone else gets the answer of a run that does not exist.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { pushScanRun, type RunPushResult } from '../../client/push/push-run';
import { validFindings } from '../../client/push/push';
import { ScanRunClient } from '../../client/push/scan-run';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { allFindings, startTestStack, type TestStack } from '../support/local-stack';
import { CSV_SAMPLE, MAPPING, NESSUS_SAMPLE } from '../support/scans';

const ORG = 'org1';
const MONDAY = new Date('2026-03-02T09:00:00.000Z');
const NEXT_MONDAY = new Date('2026-03-09T09:00:00.000Z');
const MONDAY_AFTER = new Date('2026-03-16T09:00:00.000Z');
const LAST_YEAR = new Date('2025-03-02T09:00:00.000Z');
const RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };
const WAIT = { maxPolls: 200, intervalMs: 25 };

let stack: TestStack;
let dir: string;
let original: Finding[];
let weekTwoFile: string;
const MISSING_HOST = '10.2.1.1';
let removed: Finding[];

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'scan-runs-'));
  original = [];
  for await (const finding of validFindings([NESSUS_SAMPLE, CSV_SAMPLE], MAPPING)) original.push(finding);
  // Week two: five items of the web host are gone, and the missing host was not scanned at all.
  removed = original.filter((finding) => finding.AssetName === 'testphp.vulnweb.com').slice(0, 5);
  const weekTwo = original.filter((finding) => finding.AssetName !== MISSING_HOST && !removed.includes(finding));
  weekTwoFile = join(dir, 'week-two.json');
  await writeFile(weekTwoFile, JSON.stringify({ findings: weekTwo }));
});

afterAll(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

const connection = () => ({ url: stack.url, identity: stack.pki.scanner, caPem: stack.pki.ca.certPem, retry: RETRY });
const push = (files: string[], scannedAt: Date, complete = true): Promise<RunPushResult> =>
  pushScanRun(files, {
    mapping: MAPPING,
    limits: { maxFindings: 20, maxBytes: 60_000 },
    concurrency: 3,
    connection: connection(),
    scannedAt,
    complete,
    wait: WAIT,
  });

/** Every finding of the org with `status`, following nextToken (pages may be short or empty). */
const listAll = (status: 'OPEN' | 'FIXED' | 'ALL') =>
  allFindings(stack, stack.pki.dashboard, `org=${ORG}&limit=25&status=${status}`);

const ids = (items: { VulnID?: unknown }[]) => items.map((item) => String(item.VulnID)).sort();

describe("a scanner's weeks", () => {
  let first: RunPushResult;
  let second: RunPushResult;

  it('week one: the export goes in as a run, every finding OPEN, the receipt counts it', async () => {
    first = await push([NESSUS_SAMPLE, CSV_SAMPLE], MONDAY);
    expect(first.completed).toBe(true);
    expect(first.receipt).toMatchObject({
      org: ORG,
      scanner: 'nessus',
      scannedAt: MONDAY.toISOString(),
      state: 'closed',
      counts: {
        received: original.length,
        created: original.length,
        updated: 0,
        unchanged: 0,
        stale: 0,
        reopened: 0,
        fixed: 0,
      },
    });
    expect(first.receipt.counts.batches).toBeGreaterThanOrEqual(3);
    expect(first.receipt.assets).toEqual(['10.1.1.1', '10.2.1.1', 'testphp.vulnweb.com']);
    const open = await listAll('OPEN');
    expect(ids(open)).toEqual(ids(original));
    expect(
      open.every(
        (item) =>
          item.Status === 'OPEN' && item.LastSeen === MONDAY.toISOString() && item.LastRunId === first.run.runId,
      ),
    ).toBe(true);
  });

  it('week two: the removed items become FIXED; the host the scan did not reach stays OPEN', async () => {
    second = await push([weekTwoFile], NEXT_MONDAY);
    expect(second.receipt).toMatchObject({
      state: 'closed',
      counts: { received: original.length - 7, created: 0, stale: 0, reopened: 0, fixed: removed.length },
    });
    expect(second.receipt.assets).toEqual(['10.1.1.1', 'testphp.vulnweb.com']);
    const fixed = await listAll('FIXED');
    expect(ids(fixed)).toEqual(ids(removed));
    expect(
      fixed.every((item) => item.FixedAt === NEXT_MONDAY.toISOString() && item.LastSeen === MONDAY.toISOString()),
    ).toBe(true);
    const open = await listAll('OPEN');
    const missingHost = open.filter((item) => item.AssetName === MISSING_HOST);
    expect(missingHost).toHaveLength(2);
    expect(missingHost.every((item) => item.LastSeen === MONDAY.toISOString())).toBe(true);
    expect(await listAll('ALL')).toHaveLength(original.length);
  });

  it('week three: the original again reopens what was fixed, keeps FirstSeen, and counts it', async () => {
    const third = await push([NESSUS_SAMPLE, CSV_SAMPLE], MONDAY_AFTER);
    expect(third.receipt).toMatchObject({
      state: 'closed',
      counts: { received: original.length, created: 0, reopened: removed.length, stale: 0, fixed: 0 },
    });
    expect(await listAll('FIXED')).toEqual([]);
    const reopened = (await listAll('OPEN')).filter((item) => ids(removed).includes(String(item.VulnID)));
    expect(reopened).toHaveLength(removed.length);
    for (const item of reopened)
      expect(item).toMatchObject({
        Status: 'OPEN',
        ReopenedAt: MONDAY_AFTER.toISOString(),
        TimesReopened: 1,
        FirstSeen: MONDAY.toISOString(),
      });
  });

  it('an older scan pushed late is all stale and changes nothing, nor closes anything', async () => {
    const before = await listAll('ALL');
    const late = await push([weekTwoFile], LAST_YEAR);
    expect(late.receipt).toMatchObject({
      state: 'closed',
      counts: {
        received: original.length - 7,
        created: 0,
        updated: 0,
        unchanged: 0,
        stale: original.length - 7,
        reopened: 0,
        fixed: 0,
      },
    });
    expect(await listAll('ALL')).toEqual(before);
  });
});

describe('a run', () => {
  const runs = () => new ScanRunClient(connection());
  const batch = (runId: string) => ({
    runId,
    findings: original.slice(0, 3).map((finding) => ({ ...finding, VulnID: `resend-${finding.VulnID}` })),
  });

  it('counts a batch sent twice once, and refuses a batch after completing (409); completing twice is harmless', async () => {
    const run = await runs().open({ org: ORG, scanner: 'nessus', scannedAt: MONDAY_AFTER.toISOString() });
    const body = batch(run.runId);
    const firstAnswer = await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body });
    const again = await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body });
    expect([firstAnswer.status, again.status]).toEqual([200, 200]);
    expect(firstAnswer.json()).toMatchObject({ created: 3, runId: run.runId });
    // The repeat is answered from the first answer (Powertools Idempotency): same counts, nothing written again.
    expect(again.json()).toMatchObject({ created: 3 });
    expect((await runs().receipt(run.runId, ORG)).counts).toMatchObject({ batches: 1, received: 3, created: 3 });

    expect((await runs().complete(run.runId)).runId).toBe(run.runId);
    expect((await runs().complete(run.runId)).runId).toBe(run.runId);
    const closed = await runs().waitForClosed(run.runId, ORG, WAIT);
    expect(closed.state).toBe('closed');
    expect((await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body })).status).toBe(409);
  });

  it('refuses a finding of another org in a run (403), a run id that does not exist (404) and an invalid run (400)', async () => {
    const run = await runs().open({ org: ORG, scanner: 'nessus', scannedAt: MONDAY.toISOString() });
    const otherOrg = { runId: run.runId, findings: [{ ...original[0], Org: 'org2' }] };
    expect((await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body: otherOrg })).status).toBe(
      403,
    );
    const unknown = { runId: '00000000-0000-4000-8000-000000000000', findings: [original[0]] };
    expect((await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body: unknown })).status).toBe(404);
    const invalid = await stack.request(stack.pki.scanner, {
      method: 'POST',
      path: '/scans',
      body: { org: ORG, scanner: 'nessus', scannedAt: 'yesterday' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json()).toMatchObject({ message: 'Invalid request', errors: [{ path: 'scannedAt' }] });
    expect((await stack.request(stack.pki.scanner, { method: 'POST', path: '/scans/not-a-run/complete' })).status).toBe(
      404,
    );
  });

  it('shows the receipt to its opener and to GET-granted users only; anyone else gets the 404 of a missing run', async () => {
    const run = await runs().open({ org: ORG, scanner: 'nessus', scannedAt: MONDAY.toISOString() });
    const path = `/scans/${run.runId}?org=${ORG}`;
    // The opener has no GET grant (scanner: POST only) and reads it; the dashboard has GET on org1.
    expect((await stack.request(stack.pki.scanner, { path })).status).toBe(200);
    expect((await stack.request(stack.pki.dashboard, { path })).status).toBe(200);

    const auditor = await stack.ca.issue({ subject: 'CN=auditor-01, OU=auditor, O=Example Corp', kind: 'client' });
    const otherScanner = await stack.ca.issue({ subject: 'CN=scanner-02, OU=scanner, O=Example Corp', kind: 'client' });
    await putGrant(stack.dynamoDb, stack.tables.AuthzTable, 'auditor', { methods: ['GET'], orgs: ['org2'] });
    const missing = await stack.request(stack.pki.dashboard, {
      path: `/scans/00000000-0000-4000-8000-000000000000?org=${ORG}`,
    });
    expect(missing.status).toBe(404);
    for (const [who, identity, query] of [
      ['GET-granted on another org', auditor, path],
      ['another scanner of the same OU (not the opener)', otherScanner, path],
      ['the right run under another org', stack.pki.dashboard, `/scans/${run.runId}?org=org2`],
    ] as const) {
      const answer = await stack.request(identity, { path: query });
      expect([who, answer.status, (answer.json() as { message: string }).message]).toEqual([who, 404, 'Not found']);
    }
    // A certificate not allowed to complete the run gets the same 404, and the run stays open.
    const refused = await stack.request(auditor, { method: 'POST', path: `/scans/${run.runId}/complete` });
    expect(refused.status).toBe(404);
    expect((await runs().receipt(run.runId, ORG)).state).toBe('open');
  });
});
