/**
 * Every registered format with a sample export (tests/support/scans.ts FORMAT_SAMPLES) end to end over
 * mutual TLS on one local stack: pushed in a scan run with the format's own scanner, every finding comes
 * back through GET with every field it was sent with; pushed again, nothing is created; pushed a third
 * time with some findings removed, the run closes exactly those. A format that joins the registry with a
 * sample joins this test. Each format writes to an org of its own, so their runs never meet.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { normalizeFinding } from '../../functions/shared/core/normalize';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { validFindings, withRunScanner } from '../../client/push/push';
import { pushScanRun, type RunPushResult } from '../../client/push/push-run';
import { SCAN_FORMAT_READERS } from '../../client/scan/formats';
import type { MappingOptions } from '../../client/scan/mapping';
import { allFindings, startTestStack, type TestStack } from '../support/local-stack';
import { FORMAT_SAMPLES, MAPPING } from '../support/scans';

const FIRST_SCAN = new Date('2026-03-02T09:00:00.000Z');
const RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };
const WAIT = { maxPolls: 400, intervalMs: 25 };
/**
 * Samples of more findings than a fast test pushes three times are cut to their first ones here (the
 * readers' unit tests read them whole): Grype's holds 1,509 matches, Qualys's XML report 301 detections
 * on 7 hosts (cut to its first host, 21 detections, the report otherwise as written).
 */
const MAX_PUSHED = 60;

async function pushable(name: string, samples: string[]): Promise<string[]> {
  if (name === 'grype')
    return Promise.all(
      samples.map(async (path, index) => {
        const report = JSON.parse(await readFile(path, 'utf8')) as { matches: unknown[] };
        const cut = join(dir, `grype-${index}-first-${MAX_PUSHED}.json`);
        await writeFile(cut, JSON.stringify({ ...report, matches: report.matches.slice(0, MAX_PUSHED) }));
        return cut;
      }),
    );
  if (name === 'qualys-xml')
    return Promise.all(
      samples.map(async (path, index) => {
        const report = await readFile(path, 'utf8');
        const firstHostEnd = report.indexOf('</HOST>') + '</HOST>'.length;
        const cut = join(dir, `qualys-${index}-first-host.xml`);
        await writeFile(cut, report.slice(0, firstHostEnd) + report.slice(report.indexOf('</HOST_LIST>')));
        return cut;
      }),
    );
  return samples;
}

/** The deployed API's body limit (the WAF size rule, 64 KB): batches are cut to it, as `npm run push` does. */
const LIMITS = { maxFindings: 100, maxBytes: 65_536 };

const FORMATS = SCAN_FORMAT_READERS.filter((format) => (FORMAT_SAMPLES[format.name] ?? []).length > 0).map(
  (format) => [format.name, FORMAT_SAMPLES[format.name] as string[]] as const,
);

let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  // The dashboard certificate reads every org of this test (one per format).
  await putGrant(stack.dynamoDb, stack.tables.AuthzTable, 'dashboard', { methods: ['GET'], orgs: '*' });
  dir = await mkdtemp(join(tmpdir(), 'scan-formats-'));
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = (items: { VulnID?: unknown }[]) => items.map((item) => String(item.VulnID)).sort();

test('every format with a sample takes part', () => {
  expect(FORMATS.map(([name]) => name)).toEqual(
    expect.arrayContaining([
      'nessus',
      'csv',
      'json',
      'trivy',
      'grype',
      'osv',
      'tenable-vm-csv',
      'openvas-xml',
      'openvas-csv',
      'qualys-csv',
      'qualys-xml',
      'inspector2',
      'asff',
    ]),
  );
});

describe.each(FORMATS)('%s', (name, sampleFiles) => {
  const org = `fmt-${name}`;
  let samples: string[];
  let mapping: MappingOptions;
  let expected: Finding[];

  const push = (files: string[], scope?: { assets: string[] }): Promise<RunPushResult> =>
    pushScanRun(files, {
      mapping,
      limits: LIMITS,
      concurrency: 4,
      connection: { url: stack.url, identity: stack.pki.scanner, caPem: stack.pki.ca.certPem, retry: RETRY },
      scannedAt: FIRST_SCAN,
      complete: true,
      wait: WAIT,
      scope,
    });
  const stored = (status: 'OPEN' | 'FIXED' | 'ALL') =>
    allFindings(stack, stack.pki.dashboard, `org=${org}&limit=100&status=${status}`, 200);

  beforeAll(async () => {
    // The run's scanner as `npm run push` picks it: the format's (our JSON names none: `json`).
    samples = await pushable(name, sampleFiles);
    mapping = await withRunScanner(samples, { ...MAPPING, org }, undefined);
    expected = [];
    for await (const finding of validFindings(samples, mapping)) expected.push(finding);
  });

  it('stores every finding of the sample once, and GET answers each with every field sent', async () => {
    expect(expected.length).toBeGreaterThan(0);
    const first = await push(samples);
    expect(first.summary).toMatchObject({ rejected: [], failed: [], sent: expected.length });
    // Recognised from the content, as the format under test.
    expect(first.summary.files.map((file) => file.format)).toEqual(samples.map(() => name));
    expect(first.receipt).toMatchObject({ org, scanner: mapping.scanner, state: 'closed' });
    // Every finding is new. (A batch whose answer was lost to a timeout on a busy machine is sent again by
    // the client and then counts as unchanged: created + unchanged is every finding, nothing updated.)
    const { counts } = first.receipt;
    expect(counts).toMatchObject({ received: expected.length, updated: 0, stale: 0, fixed: 0 });
    expect(counts.created + counts.unchanged).toBe(expected.length);
    const items = await stored('ALL');
    expect(ids(items)).toEqual(ids(expected));
    const byId = new Map(items.map((item) => [item.VulnID, item]));
    for (const finding of expected)
      expect(byId.get(finding.VulnID)).toMatchObject({
        ...normalizeFinding({ ...finding, Org: org }),
        Scanner: mapping.scanner,
        Status: 'OPEN',
        FirstSeen: FIRST_SCAN.toISOString(),
        LastSeen: FIRST_SCAN.toISOString(),
      });
  });

  it('pushed again, creates nothing: every finding is unchanged', async () => {
    const again = await push(samples);
    expect(again.receipt).toMatchObject({
      state: 'closed',
      counts: { received: expected.length, created: 0, updated: 0, unchanged: expected.length, fixed: 0 },
    });
    expect(await stored('ALL')).toHaveLength(expected.length);
  });

  it('pushed with some findings removed, the run closes exactly those', async () => {
    const removedCount = Math.max(1, Math.min(3, Math.floor(expected.length / 4)));
    const removed = expected.slice(0, removedCount);
    const kept = expected.slice(removedCount);
    const file = join(dir, `${name}-without-${removedCount}.json`);
    await writeFile(file, JSON.stringify({ findings: kept }));
    // The same scan's assets are in scope even when every finding of one was removed.
    const assets = [...new Set(expected.map((finding) => finding.AssetName.trim().toLowerCase()))];
    const third = await pushScanRun([file], {
      mapping,
      limits: LIMITS,
      concurrency: 4,
      connection: { url: stack.url, identity: stack.pki.scanner, caPem: stack.pki.ca.certPem, retry: RETRY },
      scannedAt: new Date(FIRST_SCAN.getTime() + 7 * 86_400_000),
      complete: true,
      wait: WAIT,
      scope: { assets },
    });
    expect(third.receipt).toMatchObject({
      state: 'closed',
      counts: { received: kept.length, created: 0, fixed: removed.length },
    });
    expect(ids(await stored('FIXED'))).toEqual(ids(removed));
    expect(ids(await stored('OPEN'))).toEqual(ids(kept));
  });
});
