/**
 * The local WAF reads the template's web ACL and applies it as AWS WAF does: the rules the AWS WAF Developer Guide
 * defines completely ("Baseline rule groups"), the rate rule, the body-size rule, with the template's overrides.
 * Every case runs on the template itself or on a copy with one thing changed, so removing a rule from the template
 * makes its case fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackTemplate } from '../../local/cloudformation/nested-stacks';
import { PROJECT_ROOT, type CfnTemplate } from '../../local/cloudformation/template';
import { parameterDefaults, wafBodyLimit, webAclFromTemplate, type WafRequest } from '../../local/gateway/waf';
import { AWS_MANAGED_RULE_GROUPS } from '../../local/gateway/waf-managed-rules';
import { userAgent } from '../../client/user-agent';

const template = loadStackTemplate();
const defaults = parameterDefaults(template);

let address = 0;
/** A request the web ACL lets through, from an address of its own (so the rate rule never adds them up). */
const request = (overrides: Partial<WafRequest> = {}): WafRequest => ({
  method: 'GET',
  path: '/vuln',
  queryString: 'org=org1',
  headers: { 'user-agent': userAgent('tests') },
  bodyBytes: 0,
  sourceIp: `10.0.0.${(address += 1)}`,
  ...overrides,
});

const acl = (copy: CfnTemplate = template, parameters: Record<string, string> = {}) => {
  const built = webAclFromTemplate(copy, { ...defaults, ...parameters });
  if (!built) throw new Error('the template has no web ACL');
  return built;
};

/** The web ACL's rules in a copy of the template, to change one. */
function rulesOf(copy: CfnTemplate): { Name: string; Statement: Record<string, unknown> }[] {
  const resource = Object.values(copy.Resources).find((candidate) => candidate.Type === 'AWS::WAFv2::WebACL');
  return (resource?.Properties as { Rules: { Name: string; Statement: Record<string, unknown> }[] }).Rules;
}

/** Each emulated rule: a request that breaks it and one just inside it. */
const cases: [rule: string, breaks: Partial<WafRequest>, keeps: Partial<WafRequest>][] = [
  ['NoUserAgent_HEADER', { headers: {} }, { headers: { 'user-agent': 'x' } }],
  ['NoUserAgent_HEADER', { headers: { 'user-agent': '' } }, { headers: { 'user-agent': userAgent('push') } }],
  [
    'SizeRestrictions_QUERYSTRING',
    { queryString: `org=${'a'.repeat(2_045)}` },
    { queryString: `org=${'a'.repeat(2_044)}` },
  ],
  [
    'SizeRestrictions_Cookie_HEADER',
    { headers: { 'user-agent': 'x', cookie: `a=${'b'.repeat(10_239)}` } },
    { headers: { 'user-agent': 'x', cookie: `a=${'b'.repeat(10_238)}` } },
  ],
  ['SizeRestrictions_URIPATH', { path: `/${'p'.repeat(1_024)}` }, { path: `/${'p'.repeat(1_023)}` }],
  ['PROPFIND_METHOD', { method: 'PROPFIND' }, { method: 'OPTIONS' }],
];

test.each(cases)('%s blocks (403) what breaks it and lets through what does not', (rule, breaks, keeps) => {
  const web = acl();
  const blocked = web.evaluate(request(breaks)).blocked;
  expect(blocked?.match).toMatchObject({ ruleType: 'MANAGED_RULE_GROUP', ruleId: rule, action: 'BLOCK' });
  // No custom response: the API's WAF_FILTERED 403 answers.
  expect(blocked?.customResponse).toBeUndefined();
  expect(web.evaluate(request(keeps))).toEqual({ counted: [] });
});

test.each(cases)('without its rule group in the template, %s no longer blocks', (_rule, breaks) => {
  const copy = structuredClone(template) as CfnTemplate;
  const group = acl().evaluate(request(breaks)).blocked?.match.ruleName;
  const rules = rulesOf(copy);
  rules.splice(
    rules.findIndex((candidate) => candidate.Name === group),
    1,
  );
  expect(group).toBeDefined();
  expect(acl(copy).evaluate(request(breaks)).blocked).toBeUndefined();
});

test("a rule action override in the template (Count) turns the rule's block into a count", () => {
  const copy = structuredClone(template) as CfnTemplate;
  const common = rulesOf(copy).find((rule) => rule.Name === 'aws-common') as unknown as {
    Statement: { ManagedRuleGroupStatement: { RuleActionOverrides: unknown[] } };
  };
  common.Statement.ManagedRuleGroupStatement.RuleActionOverrides.push({
    Name: 'NoUserAgent_HEADER',
    ActionToUse: { Count: {} },
  });
  expect(acl(copy).evaluate(request({ headers: {} }))).toEqual({
    counted: [expect.objectContaining({ ruleId: 'NoUserAgent_HEADER', action: 'COUNT' })],
  });
});

test("the template's own override keeps the core rule set's 8 KB body rule to Count: batches up to 64 KB pass", () => {
  const verdict = acl().evaluate(request({ method: 'POST', bodyBytes: 8_193 }));
  expect(verdict.blocked).toBeUndefined();
  expect(verdict.counted).toEqual([
    expect.objectContaining({ ruleName: 'aws-common', ruleId: 'SizeRestrictions_BODY', action: 'COUNT' }),
  ]);
});

test("a web ACL whose default action is Block blocks what no rule allows, as AWS WAF's Default_Action", () => {
  const copy = structuredClone(template) as CfnTemplate;
  const resource = Object.values(copy.Resources).find((candidate) => candidate.Type === 'AWS::WAFv2::WebACL');
  (resource?.Properties as { DefaultAction: unknown }).DefaultAction = { Block: {} };
  expect(acl(copy).evaluate(request()).blocked?.match).toEqual({
    ruleName: 'Default_Action',
    ruleType: 'REGULAR',
    action: 'BLOCK',
  });
});

test('WafManagedRulesAction=Count lets every managed rule match through, counted and named', () => {
  const web = acl(template, { WafManagedRulesAction: 'Count' });
  for (const [rule, breaks] of cases) {
    const verdict = web.evaluate(request(breaks));
    expect(verdict.blocked).toBeUndefined();
    expect(verdict.counted).toEqual(
      expect.arrayContaining([expect.objectContaining({ ruleId: rule, action: 'COUNT' })]),
    );
  }
});

test("the body-size rule blocks past the 64 KB inspection limit with the template's 413, and not with Count", () => {
  expect(wafBodyLimit(template)).toBe(65_536);
  const blocked = acl().evaluate(request({ method: 'POST', bodyBytes: 65_537 })).blocked;
  expect(blocked?.match).toEqual({
    ruleName: 'body-over-256kb-or-uninspectable',
    ruleType: 'REGULAR',
    action: 'BLOCK',
  });
  expect(blocked?.customResponse).toEqual({
    status: 413,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    },
    body: '{"message":"Request body too large"}',
  });
  expect(acl().evaluate(request({ method: 'POST', bodyBytes: 65_536 })).blocked).toBeUndefined();
  expect(wafBodyLimit(template, { ...defaults, WafOversizeBodyAction: 'Count' })).toBeUndefined();
});

test('the rate rule blocks an address past WafRateLimitPerIp in the 5-minute window, with its 429, then lets it in again', () => {
  const web = acl(template, { WafRateLimitPerIp: '10' });
  const from = (sourceIp: string, now: number) => web.evaluate(request({ sourceIp }), now);
  const start = 1_000_000_000_000;
  for (let second = 0; second < 10; second += 1)
    expect(from('192.0.2.1', start + second * 1000).blocked).toBeUndefined();
  const eleventh = from('192.0.2.1', start + 10_000).blocked;
  expect(eleventh?.match).toEqual({ ruleName: 'rate-limit-per-ip', ruleType: 'RATE_BASED', action: 'BLOCK' });
  expect(eleventh?.customResponse).toMatchObject({ status: 429, headers: { 'Retry-After': '300' } });
  // Another address has its own count; the first one's requests leave the window 300 s after they were made.
  expect(from('192.0.2.2', start + 10_000).blocked).toBeUndefined();
  expect(from('192.0.2.1', start + 299_000).blocked).toBeDefined();
  expect(from('192.0.2.1', start + 320_000).blocked).toBeUndefined();
});

test('the User-Agent of every operator tool names the project and version, and none the bad bots AWS names', () => {
  const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const tool of ['push', 'demo', 'seed', 'bench', 'smoke', 'authz'] as const) {
    expect(userAgent(tool)).toBe(`secure-vuln-api-${tool}/${manifest.version}`);
    // UserAgent_BadBots_HEADER: "Example patterns include nessus, and nmap."
    expect(userAgent(tool)).not.toMatch(/nessus|nmap/i);
  }
});

test('docs/local-stack.md lists every rule of the managed groups the template uses, emulated or not, as the code does', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs/local-stack.md'), 'utf8');
  const used = rulesOf(template)
    .map((rule) => (rule.Statement.ManagedRuleGroupStatement as { Name?: string } | undefined)?.Name)
    .filter((name): name is string => name !== undefined);
  for (const group of used) {
    for (const rule of AWS_MANAGED_RULE_GROUPS[group]?.rules ?? []) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${rule.name}\``));
      expect([rule.name, row?.includes(rule.matches ? '| emulated |' : '| not emulated |')]).toEqual([rule.name, true]);
    }
  }
});
