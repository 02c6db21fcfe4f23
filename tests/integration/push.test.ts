/**
 * `npm run push` end to end on the local stack over mutual TLS: both real sample exports go in,
 * every finding comes back whole through GET (each distinct ReportItem/row exactly once), a second
 * push creates nothing, the new filters find what they should, and the WAF size rule makes the
 * client split a batch on 413.
 */
import { loadStackTemplate } from '../../local/cloudformation/nested-stacks';
import { join } from 'node:path';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { DEFAULT_SLA_POLICY, slaDueAt } from '../../functions/shared/core/sla';
import { normalizeFinding } from '../../functions/shared/core/normalize';
import { BatchSender } from '../../client/push/sender';
import { checkScanFiles, pushScanFiles, ScanFileError, validFindings, type PushSummary } from '../../client/push/push';
import { wafBodyLimit } from '../../local/gateway/waf';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { allFindings, startTestStack, type TestStack } from '../support/local-stack';
import { CSV_SAMPLE, MAPPING, NESSUS_SAMPLE } from '../support/scans';

let stack: TestStack;
const FILES = [NESSUS_SAMPLE, CSV_SAMPLE];
const WAF_LIMIT = wafBodyLimit(loadStackTemplate()) as number;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack.close();
});

const push = (maxBytes = WAF_LIMIT): Promise<PushSummary> =>
  pushScanFiles(FILES, {
    mapping: MAPPING,
    limits: { maxFindings: 100, maxBytes },
    concurrency: 4,
    sender: new BatchSender({
      url: stack.url,
      identity: stack.pki.scanner,
      caPem: stack.pki.ca.certPem,
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 },
    }),
  });

/** Every stored finding of org1 matching `query`, following nextToken to the end (bounded). */
const getAll = (query = ''): Promise<Record<string, unknown>[]> =>
  allFindings(stack, stack.pki.dashboard, `org=org1&limit=20${query}`, 50);

describe('pushing the sample exports', () => {
  let expected: Finding[];
  beforeAll(async () => {
    expected = [];
    for await (const finding of validFindings(FILES, MAPPING)) expected.push(finding);
  });

  it('reads 49 + 4 items as 48 + 4 distinct findings (one Nessus pair is the same finding)', async () => {
    const checks = await checkScanFiles(FILES, MAPPING);
    expect(checks.map((check) => [check.format, check.items, check.valid, check.invalid.length])).toEqual([
      ['nessus', 49, 48, 0],
      ['csv', 4, 4, 0],
    ]);
    expect(expected).toHaveLength(52);
  });

  it('stores every finding once, and GET answers each with its fields intact', async () => {
    const summary = await push();
    expect(summary).toMatchObject({
      parsed: 52,
      sent: 52,
      created: 52,
      updated: 0,
      rejected: [],
      failed: [],
      splits: 0,
    });
    const stored = await getAll();
    expect(stored).toHaveLength(52);
    const byId = new Map(stored.map((item) => [item.VulnID, item]));
    expect(byId.size).toBe(52);
    for (const finding of expected) {
      const item = byId.get(finding.VulnID);
      expect(item).toEqual({
        ...normalizeFinding(finding),
        Status: 'OPEN',
        FirstSeen: expect.any(String),
        LastSeen: expect.any(String),
        // Nobody triaged it; written once; due under the default SLA (INFO and UNKNOWN: none).
        Workflow: 'NEW',
        Version: 1,
        SlaDueAt: slaDueAt({ ...normalizeFinding(finding), FirstSeen: String(item?.FirstSeen) }, DEFAULT_SLA_POLICY),
      });
    }
  });

  it('a second push of the same scans creates nothing and updates every finding', async () => {
    const summary = await push();
    expect(summary).toMatchObject({ sent: 52, created: 0, updated: 52, rejected: [], failed: [] });
    expect(await getAll()).toHaveLength(52);
  });

  it('filters by cve= (in CSV and Nessus findings alike) and minSeverity=', async () => {
    const rc4 = await getAll('&cve=CVE-2015-2808');
    expect(rc4.map((item) => [item.AssetName, item.PluginId])).toEqual([['10.2.1.1', 65821]]);
    const cgi = await getAll('&cve=cve-2012-1823');
    expect(cgi.map((item) => item.PluginId)).toEqual([58988]);
    const high = await getAll('&minSeverity=HIGH');
    expect(high).toHaveLength(expected.filter((finding) => ['High', 'Critical'].includes(finding.Priority)).length);
    expect(high.every((item) => item.Severity === 'HIGH' || item.Severity === 'CRITICAL')).toBe(true);
    const critical = await getAll('&minSeverity=CRITICAL&asset=TESTPHP.vulnweb.com');
    expect(critical.map((item) => item.PluginId)).toEqual([58987]);
  });

  it('sends nothing when one of the files is not a scan export', async () => {
    const before = stack.logs.length;
    await expect(
      pushScanFiles([NESSUS_SAMPLE, join(PROJECT_ROOT, 'README.md')], {
        mapping: MAPPING,
        limits: { maxFindings: 100, maxBytes: WAF_LIMIT },
        concurrency: 1,
        sender: new BatchSender({ url: stack.url, identity: stack.pki.scanner, caPem: stack.pki.ca.certPem }),
      }),
    ).rejects.toThrow(ScanFileError);
    expect(stack.logs.slice(before)).toEqual([]);
  });

  it('splits a batch the WAF size rule refuses (413) and still stores everything', async () => {
    expect(WAF_LIMIT).toBe(65_536);
    // One batch of all 52 findings is over 64 KB: the local WAF refuses it as the deployed one would.
    const summary = await push(256 * 1024);
    expect(summary.batches).toBe(1);
    expect(summary.splits).toBeGreaterThanOrEqual(1);
    expect(summary).toMatchObject({ sent: 52, created: 0, updated: 52, rejected: [], failed: [] });
    expect(stack.logs).toContainEqual(
      expect.objectContaining({
        message: 'request blocked by the WAF',
        terminatingRule: expect.objectContaining({ ruleId: 'body-over-256kb-or-uninspectable' }),
      }),
    );
  });
});
