/**
 * History and the org summary through the real stream (issue 13), end to end on the local stack with IAM enforced:
 * findings pushed as runs over mutual TLS, re-pushed, closed by a completed run, reopened and triaged; the findings
 * table's stream (local/dynamodb/streams.ts) delivered by the event source mapping (local/lambda/
 * event-source-mappings.ts) to FindingEventsFunction; then GET /vuln/history and GET /vuln/summary read what it
 * wrote. The summary must equal a recount from a full read of the org's findings (tests/support/summary-recount.ts),
 * and a re-push must leave every triage decision in place. A randomized variant repeats that over a few dozen
 * random sequences (the core's own randomized test runs hundreds: tests/unit/org-summary.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Finding } from '../../functions/shared/core/finding-schema';
import type { FindingImage } from '../../functions/shared/core/finding-history';
import type { OrgSummary } from '../../functions/shared/core/org-summary';
import { WORKFLOW_STATES } from '../../functions/shared/core/triage';
import type { RunPushResult } from '../../client/push/push-run';
import { validFindings } from '../../client/push/push';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { DEV_SUBJECTS, type Issued } from '../../local/pki';
import { REFERENCE_FINDING } from '../support/findings';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { seeded } from '../support/finding-model';
import { startTestStack, type TestStack } from '../support/local-stack';
import { pushFindingsRun } from '../support/push-findings';
import { MAPPING, NESSUS_SAMPLE } from '../support/scans';
import { figures, recount } from '../support/summary-recount';

const ORG = 'org1';
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const TRIAGER_SUBJECT = 'CN=triager-01, OU=stream-triage, O=Example Corp';
const RANDOM_SEQUENCES = 24;
const randomOrg = (seed: number) => `rand-${seed}`;

// Many runs of a real export and a few dozen random sequences on a shared 2-core machine.
jest.setTimeout(600_000);

let stack: TestStack;
/** Between the functions and DynamoDB: passes everything through until a test makes it fail. */
let proxy: FaultProxy;
let dir: string;
let triager: Issued;

interface TriageAnswer {
  processed: { index: number; vulnId: string; workflow: string; version: number }[];
  unprocessed: { index: number; vulnId: string | null; code: string; message: string }[];
  requestId: string;
}

beforeAll(async () => {
  proxy = await startFaultProxy();
  stack = await startTestStack({ functionsDynamoDbEndpoint: proxy.endpoint });
  proxy.target = stack.stack.backend.dynamoDbEndpoint;
  dir = await mkdtemp(join(tmpdir(), 'finding-events-stack-'));
  const orgs = [ORG, ...Array.from({ length: RANDOM_SEQUENCES }, (_, seed) => randomOrg(seed))];
  await putGrant(stack.dynamoDb, stack.tables.AuthzTable, 'stream-triage', { methods: ['GET', 'TRIAGE'], orgs });
  triager = await stack.ca.issue({ subject: TRIAGER_SUBJECT, kind: 'client' });
});

afterAll(async () => {
  await stack?.close();
  await proxy?.close();
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
/** The push client's run: open, batches, complete, wait for the receipt (the scanner's certificate). */
async function push(findings: Finding[], scannedAt: Date, org = ORG): Promise<RunPushResult> {
  files += 1;
  const result = await pushFindingsRun(stack, join(dir, `${files}.json`), findings, {
    mapping: { ...MAPPING, org },
    scannedAt,
    concurrency: 2,
  });
  if (!result.completed) throw new Error(JSON.stringify(result));
  return result;
}

async function triage(org: string, updates: unknown[]): Promise<TriageAnswer> {
  const response = await stack.request(triager, { method: 'POST', path: '/vuln/triage', body: { org, updates } });
  expect(response.status).toBe(200);
  return response.json() as TriageAnswer;
}

async function get(path: string): Promise<Record<string, unknown>> {
  const response = await stack.request(triager, { path });
  expect([path, response.status]).toEqual([path, 200]);
  return response.json() as Record<string, unknown>;
}

/** Every stored finding of the org, read from the table itself (strongly consistent Query, all pages). */
async function readOrg(org: string): Promise<FindingImage[]> {
  const findings: FindingImage[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await stack.dynamoDb.send(
      new QueryCommand({
        TableName: stack.tables.FindingsTable,
        KeyConditionExpression: 'Org = :org',
        ExpressionAttributeValues: { ':org': { S: org } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) findings.push(unmarshall(item) as FindingImage);
    start = page.LastEvaluatedKey;
  } while (start);
  return findings;
}

/** GET /vuln/summary, and the recount of the same instant from a full read of the org. */
async function summaryAndRecount(org: string) {
  const summary = (await get(`/vuln/summary?org=${org}`)) as unknown as OrgSummary;
  const findings = await readOrg(org);
  return { summary, findings, recounted: recount(findings, new Date(summary.asOf), summary.slaDays) };
}

/** Every entry of a finding's history, newest first, following nextToken. */
async function history(org: string, vulnId: string): Promise<Record<string, unknown>[]> {
  const entries: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const query = `org=${org}&vulnId=${encodeURIComponent(vulnId)}&limit=5${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`;
    const page = await get(`/vuln/history?${query}`);
    entries.push(...(page.items as Record<string, unknown>[]));
    token = page.nextToken as string | undefined;
  } while (token);
  return entries;
}

describe('a real export through the stream: history, summary and triage that no scan overwrites', () => {
  const now = Date.now();
  const t0 = new Date(now - 20 * DAY_MS);
  const t1 = new Date(now - 10 * DAY_MS);
  const t2 = new Date(now - 3 * DAY_MS);
  const t3 = new Date(t2.getTime() + HOUR_MS);
  const expiresAt = new Date(now + 30 * DAY_MS).toISOString();
  let original: Finding[];
  let acked: string;
  let falsePositive: string;
  let accepted: string;
  let reopened: string;
  let stillFixed: string;
  const runs: string[] = [];
  let triageRequest: string;

  beforeAll(async () => {
    original = [];
    for await (const finding of validFindings([NESSUS_SAMPLE], MAPPING)) original.push(finding);
    [acked, falsePositive, accepted, reopened, stillFixed] = original.map((finding) => finding.VulnID).sort() as [
      string,
      string,
      string,
      string,
      string,
    ];
  });

  it('pushes, re-pushes, triages, closes, reopens and re-pushes; every triage decision stays', async () => {
    runs.push((await push(original, t0)).run.runId);
    runs.push((await push(original, t0)).run.runId); // a re-push: same scan, same detail
    const answer = await triage(ORG, [
      { vulnId: acked, workflow: 'ACKNOWLEDGED', note: 'patch on Friday' },
      { vulnId: falsePositive, workflow: 'FALSE_POSITIVE', note: 'banner only' },
      { vulnId: accepted, workflow: 'RISK_ACCEPTED', justification: 'isolated lab host', expiresAt },
      { vulnId: reopened, workflow: 'ACKNOWLEDGED' },
      { vulnId: stillFixed, workflow: 'ACKNOWLEDGED' },
    ]);
    expect(answer.unprocessed).toEqual([]);
    triageRequest = answer.requestId;
    const closing = await push(
      original.filter((finding) => ![reopened, stillFixed].includes(finding.VulnID)),
      t1,
    );
    expect(closing.receipt.counts).toMatchObject({ fixed: 2 });
    runs.push(closing.run.runId);
    const reopening = await push(
      original.filter((finding) => finding.VulnID !== stillFixed),
      t2,
    );
    expect(reopening.receipt.counts).toMatchObject({ reopened: 1 });
    runs.push(reopening.run.runId);
    runs.push((await push(original, t3)).run.runId); // the export again: reopens stillFixed too
    await stack.stack.drainStreams();

    const stored = new Map((await readOrg(ORG)).map((finding) => [finding.VulnID, finding] as const));
    expect(stored.get(acked)).toMatchObject({ Workflow: 'ACKNOWLEDGED', Note: 'patch on Friday', Status: 'OPEN' });
    expect(stored.get(falsePositive)).toMatchObject({ Workflow: 'FALSE_POSITIVE', Note: 'banner only' });
    expect(stored.get(accepted)).toMatchObject({
      Workflow: 'RISK_ACCEPTED',
      Justification: 'isolated lab host',
      AcceptedUntil: expiresAt,
    });
    // An ACKNOWLEDGED finding that comes back after a fix is NEW again: someone must look at it.
    expect(stored.get(reopened)).toMatchObject({ Workflow: 'NEW', Status: 'OPEN', TimesReopened: 1 });
    expect(stored.get(stillFixed)).toMatchObject({ Workflow: 'NEW', Status: 'OPEN', TimesReopened: 1 });
  });

  it("GET /vuln/history lists exactly a finding's changes, newest first, with the certificate, request and run", async () => {
    const scanner = { subject: DEV_SUBJECTS.scanner, serialNumber: stack.pki.scanner.serialNumber };
    const byScan = (run: string) => ({ ...scanner, requestId: expect.any(String), runId: run });
    const [r0, r1, r2, r3] = runs as [string, string, string, string, string];
    const entries = await history(ORG, reopened);
    expect(entries.map((entry) => entry.Kind)).toEqual(['seen', 'reopened', 'fixed', 'triaged', 'seen', 'created']);
    expect(entries).toEqual([
      expect.objectContaining({ Kind: 'seen', At: t3.toISOString(), By: byScan(runs[4] as string), Fields: [] }),
      expect.objectContaining({
        Kind: 'reopened',
        At: t2.toISOString(),
        By: byScan(r3),
        RunId: r3,
        FromStatus: 'FIXED',
        ToStatus: 'OPEN',
        FromWorkflow: 'ACKNOWLEDGED',
        ToWorkflow: 'NEW',
      }),
      expect.objectContaining({
        Kind: 'fixed',
        At: t1.toISOString(),
        RunId: r2,
        FromStatus: 'OPEN',
        ToStatus: 'FIXED',
        By: expect.objectContaining({ ...scanner, runId: r2 }),
      }),
      expect.objectContaining({
        Kind: 'triaged',
        FromWorkflow: 'NEW',
        ToWorkflow: 'ACKNOWLEDGED',
        Fields: ['Workflow'],
        By: expect.objectContaining({
          subject: TRIAGER_SUBJECT,
          serialNumber: triager.serialNumber,
          requestId: triageRequest,
        }),
      }),
      expect.objectContaining({ Kind: 'seen', At: t0.toISOString(), By: byScan(r1), RunId: r1 }),
      expect.objectContaining({ Kind: 'created', At: t0.toISOString(), By: byScan(r0), RunId: r0, ToStatus: 'OPEN' }),
    ]);
    // Each entry is when DynamoDB recorded the write: newest first in that order too.
    const recorded = entries.map((entry) => Date.parse(String(entry.RecordedAt)));
    expect(recorded).toEqual([...recorded].sort((a, b) => b - a));
    // Another finding's history holds none of these.
    expect((await history(ORG, acked)).every((entry) => entry.VulnID === acked)).toBe(true);
  });

  it('GET /vuln/summary equals a recount from a full read of the org, MTTR and reopenings included', async () => {
    const { summary, findings, recounted } = await summaryAndRecount(ORG);
    expect(figures(summary)).toEqual(recounted);
    const total = Object.values(summary.counts).flatMap((bySeverity) =>
      Object.values(bySeverity).flatMap((byWorkflow) => Object.values(byWorkflow)),
    );
    expect(total.reduce((a, b) => a + b, 0)).toBe(findings.length);
    expect(summary.windows.last30Days.reopenedTotal).toBe(2);
    // Both fixes were reopened since: no finding is FIXED now, so MTTR is undefined (null) everywhere.
    expect(Object.values(summary.windows.last30Days.mttrHours).every((hours) => hours === null)).toBe(true);
    expect(summary.lastChanged).not.toBeNull();
  });

  it('a run that closes one finding: MTTR defined for its severity, and the summary still equals the recount', async () => {
    const fixed = await push(
      original.filter((finding) => finding.VulnID !== acked),
      new Date(t3.getTime() + HOUR_MS),
    );
    expect(fixed.receipt.counts).toMatchObject({ fixed: 1 });
    await stack.stack.drainStreams();
    const { summary, recounted } = await summaryAndRecount(ORG);
    expect(figures(summary)).toEqual(recounted);
    const defined = Object.values(summary.windows.last30Days.mttrHours).filter((hours) => hours !== null);
    expect(defined).toEqual([20 * 24 - 3 * 24 + 2]);
    const entries = await history(ORG, acked);
    expect(entries[0]).toMatchObject({ Kind: 'fixed', RunId: fixed.run.runId });
    // The fix leaves the people's fields as they are.
    expect((await readOrg(ORG)).find((finding) => finding.VulnID === acked)).toMatchObject({
      Status: 'FIXED',
      Workflow: 'ACKNOWLEDGED',
      Note: 'patch on Friday',
    });
  });

  it('the consumer failing: the mapping retries the batch, and nothing is lost or counted twice', async () => {
    await stack.stack.drainStreams();
    const mappings = stack.stack.backend.eventSourceMappings;
    const invocations = () => mappings.status().reduce((sum, mapping) => sum + mapping.invocations, 0);
    const before = invocations();
    // Every PutItem (the history entry's) fails until the mapping has invoked the function a second time: the
    // first invocation could not record the change and answered it as failed (batchItemFailures).
    proxy.fault = 'server-error';
    proxy.failing.add('PutItem');
    try {
      const answer = await triage(ORG, [{ vulnId: falsePositive, workflow: 'ACKNOWLEDGED', note: 'not a banner' }]);
      expect(answer.processed).toHaveLength(1);
      for (let polls = 0; invocations() < before + 2 && polls < 3000; polls += 1)
        await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      proxy.failing.clear();
    }
    await stack.stack.drainStreams();
    expect(proxy.injected).toBeGreaterThanOrEqual(1);
    // Retried until it recorded the change; nothing given up.
    expect(invocations() - before).toBeGreaterThanOrEqual(2);
    expect(mappings.failures()).toEqual([]);
    const entries = await history(ORG, falsePositive);
    expect(entries[0]).toMatchObject({ Kind: 'triaged', FromWorkflow: 'FALSE_POSITIVE', ToWorkflow: 'ACKNOWLEDGED' });
    expect(entries.filter((entry) => entry.ToWorkflow === 'ACKNOWLEDGED' && entry.Kind === 'triaged')).toHaveLength(1);
    const { summary, recounted } = await summaryAndRecount(ORG);
    expect(figures(summary)).toEqual(recounted);
  });
});

describe('random sequences on the stack: after each, the summary equals a recount', () => {
  const PRIORITIES = ['Critical', 'High', 'Medium', 'Low', 'Info'];

  it(`${RANDOM_SEQUENCES} sequences of pushes, re-pushes, late scans, closing runs, reopenings and triage`, async () => {
    // What the sequences did in all: each kind of change must have happened, or the comparison proves little.
    const tally = { fixed: 0, reopened: 0, stale: 0, triaged: 0, compared: 0 };
    for (let seed = 0; seed < RANDOM_SEQUENCES; seed += 1) {
      const random = seeded(seed + 1);
      const org = randomOrg(seed);
      const vulnIds = ['v1', 'v2', 'v3', 'v4'];
      const priority = new Map(vulnIds.map((id) => [id, random.pick(PRIORITIES)] as const));
      let clock = Date.now() - 40 * DAY_MS;
      const operations = 3 + random.int(4);
      const done: string[] = [];
      for (let op = 0; op < operations; op += 1) {
        clock += random.int(3 * DAY_MS);
        const roll = random.next();
        if (roll < 0.65 || op === 0) {
          // A push of some findings as a completed run: it closes the others on the same asset.
          const reported = vulnIds.filter(() => random.chance(0.7));
          if (reported.length === 0) reported.push(random.pick(vulnIds));
          if (random.chance(0.3)) priority.set(random.pick(reported), random.pick(PRIORITIES));
          const late = random.chance(0.15);
          const at = late ? clock - random.int(5 * DAY_MS) : clock;
          const { receipt } = await push(
            reported.map((id) => ({
              ...REFERENCE_FINDING,
              Org: org,
              VulnID: id,
              Priority: priority.get(id) as string,
            })),
            new Date(at),
            org,
          );
          tally.fixed += receipt.counts.fixed;
          tally.reopened += receipt.counts.reopened;
          tally.stale += receipt.counts.stale;
          done.push(`push ${reported.join(',')}${late ? ' late' : ''}`);
        } else {
          const updates = vulnIds
            .filter(() => random.chance(0.4))
            .map((vulnId) => {
              const workflow = random.pick(WORKFLOW_STATES);
              return workflow === 'RISK_ACCEPTED'
                ? {
                    vulnId,
                    workflow,
                    justification: 'accepted',
                    expiresAt: new Date(Date.now() + (1 + random.int(60)) * DAY_MS),
                  }
                : { vulnId, workflow };
            });
          if (updates.length === 0) continue;
          tally.triaged += (await triage(org, updates)).processed.length;
          done.push(`triage ${updates.map((update) => `${update.vulnId}=${update.workflow}`).join(',')}`);
        }
        await stack.stack.drainStreams();
        const { summary, recounted } = await summaryAndRecount(org);
        expect({ seed, done, figures: figures(summary) }).toEqual({ seed, done, figures: recounted });
        tally.compared += 1;
      }
    }
    expect({ tally, everyKind: Object.values(tally).every((count) => count > 0) }).toEqual({ tally, everyKind: true });
    expect(tally.compared).toBeGreaterThanOrEqual(RANDOM_SEQUENCES * 2);
  });
});
