/**
 * Triage end to end over mutual TLS on the local stack (issue 13): a real export pushed as a run, triaged
 * (per-item answers: processed, NotFound, ConflictError, InvalidInput), the default list showing only what
 * there is to fix, then a re-scan without two findings (FIXED) and the original again (reopened): every
 * triage decision stays, an ACKNOWLEDGED finding that comes back is NEW, a FALSE_POSITIVE stays. An
 * acceptance that expires reads NEW from then on. Only a TRIAGE grant on the org may triage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { validFindings } from '../../client/push/push';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import type { Issued } from '../../local/pki';
import { runAuthz } from '../../client/authz-command';
import { allFindings, portOf, startTestStack, type TestStack } from '../support/local-stack';
import { pushFindingsRun } from '../support/push-findings';
import { MAPPING, NESSUS_SAMPLE } from '../support/scans';

const ORG = 'org1';
const MONDAY = new Date('2026-03-02T09:00:00.000Z');
const NEXT_MONDAY = new Date('2026-03-09T09:00:00.000Z');
const MONDAY_AFTER = new Date('2026-03-16T09:00:00.000Z');
const DAY_MS = 24 * 60 * 60 * 1000;

// Three runs of a real export on a shared 2-core machine: each push may take longer than the default minute.
jest.setTimeout(240_000);

let stack: TestStack;
let dir: string;
let original: Finding[];
let triager: Issued;
let otherOrgTriager: Issued;

interface TriageAnswer {
  org: string;
  processed: { index: number; vulnId: string; workflow: string; version: number }[];
  unprocessed: { index: number; vulnId: string | null; code: string; message: string }[];
}

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'triage-'));
  original = [];
  for await (const finding of validFindings([NESSUS_SAMPLE], MAPPING)) original.push(finding);
  // `npm run authz -- grant --ou triage --methods GET,TRIAGE --orgs org1`, against the local stack's table.
  process.env.DYNAMODB_PORT = String(portOf(stack.stack.backend.dynamoDbEndpoint));
  const out: string[] = [];
  const code = await runAuthz(['grant', '--ou', 'triage', '--methods', 'GET,TRIAGE', '--orgs', ORG], {
    out: (line) => out.push(line),
    err: (line) => out.push(line),
  });
  expect([code, out.join('\n')]).toEqual([0, expect.stringContaining('OU triage')]);
  await putGrant(stack.dynamoDb, stack.tables.AuthzTable, 'triage-org2', {
    methods: ['GET', 'TRIAGE'],
    orgs: ['org2'],
  });
  triager = await stack.ca.issue({ subject: 'CN=triager-01, OU=triage, O=Example Corp', kind: 'client' });
  otherOrgTriager = await stack.ca.issue({ subject: 'CN=triager-02, OU=triage-org2, O=Example Corp', kind: 'client' });
});

afterAll(async () => {
  delete process.env.DYNAMODB_PORT;
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const push = (findings: Finding[], scannedAt: Date) =>
  pushFindingsRun(stack, join(dir, `${scannedAt.getTime()}.json`), findings, {
    mapping: MAPPING,
    scannedAt,
    concurrency: 3,
  });

const triage = (identity: Issued, body: unknown) =>
  stack.request(identity, { method: 'POST', path: '/vuln/triage', body });

const list = (query = '') => allFindings(stack, stack.pki.dashboard, `org=${ORG}&limit=25${query}`);
const byId = async () =>
  new Map((await list('&status=ALL&workflow=ALL')).map((item) => [String(item.VulnID), item] as const));
const ids = (items: { VulnID?: unknown }[]) => items.map((item) => String(item.VulnID)).sort();

describe("a triager's weeks", () => {
  let acked: string;
  let falsePositive: string;
  let accepted: string;
  let ackedThenFixed: string;
  let falsePositiveThenFixed: string;
  let untouched: string;

  it('week one: the export goes in as a run; every finding NEW at version 1 in the default list', async () => {
    const result = await push(original, MONDAY);
    expect(result.completed).toBe(true);
    const open = await list();
    expect(open).toHaveLength(original.length);
    expect(open.every((item) => item.Workflow === 'NEW' && item.Version === 1)).toBe(true);
    [acked, falsePositive, accepted, ackedThenFixed, falsePositiveThenFixed, untouched] = ids(open) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
  });

  it('triages a batch: each item processed or unprocessed with its code, one bad item blocking nothing', async () => {
    const expiresAt = new Date(Date.now() + 30 * DAY_MS).toISOString();
    const response = await triage(triager, {
      org: ORG,
      updates: [
        { vulnId: acked, workflow: 'ACKNOWLEDGED', note: 'patch window on Friday', expectedVersion: 1 },
        { vulnId: falsePositive, workflow: 'FALSE_POSITIVE', note: 'banner only, not the vulnerable build' },
        { vulnId: accepted, workflow: 'RISK_ACCEPTED', justification: 'isolated lab host', expiresAt },
        { vulnId: ackedThenFixed, workflow: 'ACKNOWLEDGED' },
        { vulnId: falsePositiveThenFixed, workflow: 'FALSE_POSITIVE' },
        { vulnId: 'no-such-finding', workflow: 'ACKNOWLEDGED' },
        { vulnId: untouched, workflow: 'ACKNOWLEDGED', expectedVersion: 7 },
        { vulnId: untouched, workflow: 'RISK_ACCEPTED', expiresAt },
        { vulnId: untouched, workflow: 'RISK_ACCEPTED', justification: 'forever', expiresAt: '2099-01-01T00:00:00Z' },
      ],
    });
    expect(response.status).toBe(200);
    const answer = response.json() as TriageAnswer;
    expect(answer.processed).toEqual([
      { index: 0, vulnId: acked, workflow: 'ACKNOWLEDGED', version: 2 },
      { index: 1, vulnId: falsePositive, workflow: 'FALSE_POSITIVE', version: 2 },
      { index: 2, vulnId: accepted, workflow: 'RISK_ACCEPTED', version: 2 },
      { index: 3, vulnId: ackedThenFixed, workflow: 'ACKNOWLEDGED', version: 2 },
      { index: 4, vulnId: falsePositiveThenFixed, workflow: 'FALSE_POSITIVE', version: 2 },
    ]);
    expect(answer.unprocessed).toEqual([
      { index: 5, vulnId: 'no-such-finding', code: 'NotFound', message: 'no such finding in the org' },
      { index: 6, vulnId: untouched, code: 'ConflictError', message: expect.stringContaining('version 1, not 7') },
      {
        index: 7,
        vulnId: untouched,
        code: 'InvalidInput',
        message: 'justification is required for RISK_ACCEPTED',
      },
      { index: 8, vulnId: untouched, code: 'InvalidInput', message: 'expiresAt must be at most 366 days ahead' },
    ]);
    const stored = await byId();
    expect(stored.get(untouched)).toMatchObject({ Workflow: 'NEW', Version: 1 });
    expect(stored.get(untouched)?.Note).toBeUndefined();
    expect(stored.get(acked)).toMatchObject({
      Workflow: 'ACKNOWLEDGED',
      Note: 'patch window on Friday',
      Version: 2,
      TriagedBy: { subject: 'CN=triager-01, OU=triage, O=Example Corp', serialNumber: triager.serialNumber },
    });
    expect(stored.get(accepted)).toMatchObject({
      Workflow: 'RISK_ACCEPTED',
      Justification: 'isolated lab host',
      AcceptedUntil: expiresAt,
    });
  });

  it('the default list is what there is to fix: no false positive, no unexpired acceptance; workflow= picks one state', async () => {
    const hidden = [falsePositive, falsePositiveThenFixed, accepted];
    expect(ids(await list())).toEqual(ids(original).filter((id) => !hidden.includes(id)));
    expect(ids(await list('&workflow=ACKNOWLEDGED'))).toEqual([acked, ackedThenFixed].sort());
    expect(ids(await list('&workflow=FALSE_POSITIVE'))).toEqual([falsePositive, falsePositiveThenFixed].sort());
    expect(ids(await list('&workflow=RISK_ACCEPTED'))).toEqual([accepted]);
    expect(ids(await list('&workflow=NEW'))).toEqual(
      ids(original).filter((id) => !hidden.includes(id) && id !== acked && id !== ackedThenFixed),
    );
    expect(await list('&status=ALL&workflow=ALL')).toHaveLength(original.length);
  });

  it('a re-scan without two findings fixes them and leaves every triage decision in place', async () => {
    const result = await push(
      original.filter((finding) => ![ackedThenFixed, falsePositiveThenFixed].includes(finding.VulnID)),
      NEXT_MONDAY,
    );
    expect(result.receipt).toMatchObject({ counts: expect.objectContaining({ fixed: 2 }) });
    const stored = await byId();
    expect(stored.get(ackedThenFixed)).toMatchObject({ Status: 'FIXED', Workflow: 'ACKNOWLEDGED' });
    expect(stored.get(falsePositiveThenFixed)).toMatchObject({ Status: 'FIXED', Workflow: 'FALSE_POSITIVE' });
    expect(stored.get(acked)).toMatchObject({ Workflow: 'ACKNOWLEDGED', Note: 'patch window on Friday' });
    expect(stored.get(falsePositive)).toMatchObject({ Workflow: 'FALSE_POSITIVE' });
    expect(stored.get(accepted)).toMatchObject({ Workflow: 'RISK_ACCEPTED', Justification: 'isolated lab host' });
  });

  it('the original again: an ACKNOWLEDGED finding that comes back is NEW, a FALSE_POSITIVE stays, the rest is untouched', async () => {
    const result = await push(original, MONDAY_AFTER);
    expect(result.receipt).toMatchObject({ counts: expect.objectContaining({ reopened: 2 }) });
    const stored = await byId();
    expect(stored.get(ackedThenFixed)).toMatchObject({ Status: 'OPEN', Workflow: 'NEW', TimesReopened: 1 });
    expect(stored.get(falsePositiveThenFixed)).toMatchObject({ Status: 'OPEN', Workflow: 'FALSE_POSITIVE' });
    expect(stored.get(acked)).toMatchObject({ Workflow: 'ACKNOWLEDGED', Note: 'patch window on Friday' });
    expect(stored.get(accepted)).toMatchObject({ Workflow: 'RISK_ACCEPTED' });
    expect(ids(await list('&workflow=ACKNOWLEDGED'))).toEqual([acked]);
    expect(ids(await list())).toEqual(
      ids(original).filter((id) => ![falsePositive, falsePositiveThenFixed, accepted].includes(id)),
    );
  });

  it('the version a triage names must be the one stored: every write moved it, so an old one conflicts and the current one applies', async () => {
    const current = Number((await byId()).get(acked)?.Version);
    expect(current).toBeGreaterThan(2);
    const stale = (await triage(triager, {
      org: ORG,
      updates: [{ vulnId: acked, workflow: 'NEW', expectedVersion: 2 }],
    }).then((response) => response.json())) as TriageAnswer;
    expect(stale.unprocessed.map((item) => item.code)).toEqual(['ConflictError']);
    const fresh = (await triage(triager, {
      org: ORG,
      updates: [{ vulnId: acked, workflow: 'ACKNOWLEDGED', note: '', expectedVersion: current }],
    }).then((response) => response.json())) as TriageAnswer;
    expect(fresh.processed).toEqual([{ index: 0, vulnId: acked, workflow: 'ACKNOWLEDGED', version: current + 1 }]);
    expect((await byId()).get(acked)?.Note).toBeUndefined();
  });

  it('an acceptance that expires reads NEW from that instant, with no job run', async () => {
    const expiresAt = new Date(Date.now() + 1500);
    const answer = (await triage(triager, {
      org: ORG,
      updates: [{ vulnId: untouched, workflow: 'RISK_ACCEPTED', justification: 'demo', expiresAt }],
    }).then((response) => response.json())) as TriageAnswer;
    expect(answer.processed).toHaveLength(1);
    expect(ids(await list())).not.toContain(untouched);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt.getTime() - Date.now() + 50)));
    const open = await list();
    expect(ids(open)).toContain(untouched);
    expect(open.find((item) => item.VulnID === untouched)).toMatchObject({
      Workflow: 'NEW',
      AcceptedUntil: expiresAt.toISOString(),
    });
  });

  it('only a TRIAGE grant on the org triages: a scanner (POST), a dashboard (GET) and another org are 403, and nothing changes', async () => {
    const before = await byId();
    const body = { org: ORG, updates: [{ vulnId: falsePositive, workflow: 'NEW' }] };
    for (const identity of [stack.pki.scanner, stack.pki.dashboard, otherOrgTriager]) {
      const response = await triage(identity as Issued, body);
      expect(response.status).toBe(403);
      expect(response.json()).toEqual({ message: 'Forbidden', requestId: expect.any(String) });
    }
    expect(await byId()).toEqual(before);
  });

  it('answers 400 naming the field for a bad envelope: no org, no updates, more than 100', async () => {
    const cases: [unknown, string][] = [
      [{ updates: [{ vulnId: acked, workflow: 'NEW' }] }, 'org'],
      [{ org: ORG }, 'updates'],
      [{ org: ORG, updates: [] }, 'updates'],
      [{ org: ORG, updates: Array.from({ length: 101 }, () => ({ vulnId: acked, workflow: 'NEW' })) }, 'updates'],
    ];
    for (const [body, path] of cases) {
      const response = await triage(triager, body);
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({
        message: 'Invalid request',
        errors: [expect.objectContaining({ path })],
      });
    }
  });
});
