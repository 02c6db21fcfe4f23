/**
 * The web ACL's rules through the real local gateway over mutual TLS (local/gateway/waf.ts, docs/local-stack.md
 * "WAF rules"): each emulated rule blocks a request that breaks it (the API's WAF_FILTERED 403, or the rule's own
 * custom response) and lets through one that keeps to it; the operator's own client passes; with
 * WafManagedRulesAction=Count the managed rules count instead of blocking; the rate rule answers 429.
 */
import { request as httpsRequest } from 'node:https';
import { pushScanRun } from '../../client/push/push-run';
import type { CallResult } from '../../client/mtls';
import { REFERENCE_FINDING } from '../support/findings';
import { CSV_SAMPLE, MAPPING } from '../support/scans';
import { startTestStack, type TestRequestOptions, type TestStack } from '../support/local-stack';

/** The WAF's block logged for this answer (by the id the client cannot choose), if any. */
const blockOf = (stack: TestStack, answer: CallResult) =>
  stack.logs.find(
    (entry) => entry.message === 'request blocked by the WAF' && entry.requestId === answer.headers['x-amz-apigw-id'],
  )?.terminatingRule as Record<string, unknown> | undefined;

/** Each emulated managed rule: a request that breaks it and one just inside it (AWS WAF Developer Guide sizes). */
const cases: [rule: string, breaks: TestRequestOptions, keeps: TestRequestOptions][] = [
  ['NoUserAgent_HEADER', { path: '/vuln?org=org1', userAgent: null }, { path: '/vuln?org=org1' }],
  [
    'SizeRestrictions_QUERYSTRING',
    { path: `/vuln?org=org1&pad=${'a'.repeat(2_048 - 'org=org1&pad='.length + 1)}` },
    { path: `/vuln?org=org1&pad=${'a'.repeat(2_048 - 'org=org1&pad='.length)}` },
  ],
  [
    'SizeRestrictions_Cookie_HEADER',
    { path: '/vuln?org=org1', headers: { Cookie: `a=${'b'.repeat(10_239)}` } },
    { path: '/vuln?org=org1', headers: { Cookie: `a=${'b'.repeat(10_238)}` } },
  ],
  ['SizeRestrictions_URIPATH', { path: `/${'p'.repeat(1_024)}` }, { path: `/${'p'.repeat(1_023)}` }],
  ['PROPFIND_METHOD', { path: '/vuln?org=org1', method: 'PROPFIND' }, { path: '/vuln?org=org1', method: 'OPTIONS' }],
];

describe('the template web ACL, with its defaults', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  test.each(cases)('%s: 403 for what breaks it, nothing from WAF for what keeps to it', async (rule, breaks, keeps) => {
    const blocked = await stack.request(stack.pki.dashboard, breaks);
    expect(blocked.status).toBe(403);
    expect(blocked.headers['x-amzn-errortype']).toBe('ForbiddenException');
    expect(blocked.json()).toEqual({ message: 'Forbidden', requestId: blocked.headers['x-amz-apigw-id'] });
    const knownBad = rule === 'PROPFIND_METHOD';
    expect(blockOf(stack, blocked)).toEqual({
      ruleId: knownBad ? 'aws-known-bad-inputs' : 'aws-common',
      ruleType: 'MANAGED_RULE_GROUP',
      ruleGroupId: knownBad ? 'AWS#AWSManagedRulesKnownBadInputsRuleSet' : 'AWS#AWSManagedRulesCommonRuleSet',
      ruleIdWithinGroup: rule,
      action: 'BLOCK',
    });
    const kept = await stack.request(stack.pki.dashboard, keeps);
    expect(blockOf(stack, kept)).toBeUndefined();
    expect(kept.status).not.toBe(403);
  });

  test("a body past the 64 KB inspection limit gets the size rule's 413, one at the limit does not", async () => {
    const padded = (bytes: number) => {
      const body = JSON.stringify({ ...REFERENCE_FINDING, VulnID: 'waf-size', Description: '' });
      return body.replace('"Description":""', `"Description":"${'x'.repeat(bytes - body.length)}"`);
    };
    const over = await stack.request(stack.pki.scanner, { path: '/vuln', body: padded(65_537) });
    expect([over.status, over.json()]).toEqual([413, { message: 'Request body too large' }]);
    expect(blockOf(stack, over)).toMatchObject({ ruleId: 'body-over-256kb-or-uninspectable', action: 'BLOCK' });
    const at = await stack.request(stack.pki.scanner, { path: '/vuln', body: padded(65_536) });
    expect(blockOf(stack, at)).toBeUndefined();
  });

  test('the operator client (npm run push: open, batches, complete, receipt) passes the WAF', async () => {
    const logged = stack.logs.length;
    const result = await pushScanRun([CSV_SAMPLE], {
      mapping: MAPPING,
      limits: { maxFindings: 100, maxBytes: 60_000 },
      concurrency: 1,
      connection: {
        url: stack.url,
        identity: stack.pki.scanner,
        caPem: stack.pki.ca.certPem,
        retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 },
      },
      complete: true,
      wait: { maxPolls: 200, intervalMs: 25 },
    });
    expect([result.summary.rejected, result.summary.failed, result.completed]).toEqual([[], [], true]);
    expect(result.receipt.state).toBe('closed');
    expect(stack.logs.slice(logged).filter((entry) => entry.message === 'request blocked by the WAF')).toEqual([]);
  });

  test("node's https sends no User-Agent of its own: a client that does not set one is blocked", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = httpsRequest(
        new URL('/vuln?org=org1', stack.url),
        {
          cert: stack.pki.dashboard.certPem,
          key: stack.pki.dashboard.keyPem,
          ca: stack.pki.ca.certPem,
          agent: false,
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
    expect(status).toBe(403);
  });
});

describe('WafManagedRulesAction=Count', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ parameterOverrides: { WafManagedRulesAction: 'Count' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  test('the managed rules count instead of blocking: a request without a User-Agent goes through, logged', async () => {
    const answer = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1', userAgent: null });
    expect(answer.status).toBe(200);
    expect(blockOf(stack, answer)).toBeUndefined();
    const counted = stack.logs.find(
      (entry) =>
        entry.message === 'WAF rules counted the request' && entry.requestId === answer.headers['x-amz-apigw-id'],
    );
    expect(counted?.nonTerminatingMatchingRules).toEqual([
      expect.objectContaining({ ruleId: 'aws-common', ruleIdWithinGroup: 'NoUserAgent_HEADER', action: 'COUNT' }),
    ]);
  });
});

describe('the rate rule', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // The lowest limit AWS allows ("The lowest limit setting allowed is 10").
    stack = await startTestStack({ parameterOverrides: { WafRateLimitPerIp: '10' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  test("an address past WafRateLimitPerIp in the 5-minute window gets the rule's 429", async () => {
    const statuses: number[] = [];
    for (let sent = 0; sent < 10; sent += 1)
      statuses.push((await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' })).status);
    expect(statuses).toEqual(Array(10).fill(200));
    const limited = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' });
    expect([limited.status, limited.json(), limited.headers['retry-after']]).toEqual([
      429,
      { message: 'Too Many Requests' },
      '300',
    ]);
    expect(blockOf(stack, limited)).toEqual({ ruleId: 'rate-limit-per-ip', ruleType: 'RATE_BASED', action: 'BLOCK' });
  });
});
