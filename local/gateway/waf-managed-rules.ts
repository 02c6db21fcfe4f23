/**
 * The AWS managed rule groups the template's web ACL can use, rule by rule, as the AWS WAF Developer Guide
 * documents them ("Baseline rule groups",
 * https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html; "Use-case specific
 * rule groups" and "IP reputation rule groups" for the SQL database and IP reputation groups). Rules are listed in
 * the guide's order, which is the order the local WAF evaluates them in.
 *
 * A rule is emulated (`matches`) only where the guide defines it completely: a missing header, a size with its
 * number of bytes, a method. Every other rule is documented by its intent and an example pattern only ("Example
 * patterns include …"; AWS keeps the rest unpublished so that "bad actors" cannot "circumvent the rules"), or by an
 * IP list AWS does not publish, and is listed with `notEmulated` saying why. docs/local-stack.md holds the same
 * table (tests/unit/waf-managed-rules.test.ts keeps them equal).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** What the local WAF inspects of a request. */
export interface WafRequest {
  method: string;
  /** The URI path as the client sent it (still percent-encoded), without the query string. */
  path: string;
  /** The query string as the client sent it, without the `?`; empty when there is none. */
  queryString: string;
  headers: IncomingHttpHeaders;
  /** Body length in bytes; Infinity when the body is larger than the gateway reads at all. */
  bodyBytes: number;
  sourceIp: string;
}

export interface ManagedRule {
  name: string;
  /** The rule's documented condition, where the guide states it completely. */
  matches?: (request: WafRequest) => boolean;
  /** Why the local WAF does not apply it (pattern rules, unpublished lists, a local-only condition). */
  notEmulated?: string;
}

export interface ManagedRuleGroup {
  /** The `ruleGroupId` AWS WAF logs write: `AWS#<Name>`. */
  id: string;
  rules: ManagedRule[];
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const header = (request: WafRequest, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join('; ') : value;
};

/** A rule whose patterns AWS documents by example only. */
const pattern = (name: string, examples: string): ManagedRule => ({
  name,
  notEmulated: `pattern rule, documented by example only: ${examples}`,
});

const CORE_RULE_SET: ManagedRule[] = [
  {
    // "Inspects for requests that are missing the HTTP User-Agent header." An empty value is treated as missing:
    // the guide does not say, and the local stack must not be kinder than AWS.
    name: 'NoUserAgent_HEADER',
    matches: (request) => (header(request, 'user-agent') ?? '').trim() === '',
  },
  pattern('UserAgent_BadBots_HEADER', '`nessus`, `nmap`'),
  // "Inspects for URI query strings that are over 2,048 bytes."
  { name: 'SizeRestrictions_QUERYSTRING', matches: (request) => bytes(request.queryString) > 2_048 },
  // "Inspects for cookie headers that are over 10,240 bytes."
  { name: 'SizeRestrictions_Cookie_HEADER', matches: (request) => bytes(header(request, 'cookie') ?? '') > 10_240 },
  // "Inspects for request bodies that are over 8 KB (8,192 bytes)."
  { name: 'SizeRestrictions_BODY', matches: (request) => request.bodyBytes > 8_192 },
  // "Inspects for URI paths that are over 1,024 bytes."
  { name: 'SizeRestrictions_URIPATH', matches: (request) => bytes(request.path) > 1_024 },
  ...['BODY', 'COOKIE', 'URIPATH', 'QUERYARGUMENTS'].map((part) =>
    pattern(`EC2MetaDataSSRF_${part}`, 'attempts to exfiltrate Amazon EC2 metadata (no pattern given)'),
  ),
  ...['QUERYARGUMENTS', 'URIPATH', 'BODY'].map((part) => pattern(`GenericLFI_${part}`, '`../../`')),
  ...['URIPATH', 'QUERYARGUMENTS'].map((part) => pattern(`RestrictedExtensions_${part}`, '`.log`, `.ini`')),
  ...['QUERYARGUMENTS', 'BODY', 'URIPATH'].map((part) =>
    pattern(`GenericRFI_${part}`, '`http://`, `file://` … with an IPv4 host'),
  ),
  ...['COOKIE', 'QUERYARGUMENTS', 'BODY', 'URIPATH'].map((part) =>
    pattern(`CrossSiteScripting_${part}`, '`<script>alert("hello")</script>`'),
  ),
];

const KNOWN_BAD_INPUTS: ManagedRule[] = [
  ...['HEADER', 'BODY', 'URIPATH', 'QUERYSTRING'].map((part) =>
    pattern(`JavaDeserializationRCE_${part}`, '`(java.lang.Runtime).getRuntime().exec("whoami")`'),
  ),
  {
    name: 'Host_localhost_HEADER',
    notEmulated:
      'pattern rule (`localhost`); the local gateway is itself https://localhost, which the deployed custom domain never is',
  },
  // "Inspects the HTTP method in the request for PROPFIND."
  { name: 'PROPFIND_METHOD', matches: (request) => request.method.toUpperCase() === 'PROPFIND' },
  pattern('ExploitablePaths_URIPATH', '`web-inf`'),
  ...['HEADER', 'QUERYSTRING', 'BODY', 'URIPATH'].map((part) =>
    pattern(`Log4JRCE_${part}`, '`${jndi:ldap://example.com/}`'),
  ),
  pattern('ReactJSRCE_BODY', 'CVE-2025-55182'),
];

const SQL_DATABASE: ManagedRule[] = [
  'SQLi_QUERYARGUMENTS',
  'SQLiExtendedPatterns_QUERYARGUMENTS',
  'SQLi_BODY',
  'SQLiExtendedPatterns_BODY',
  'SQLi_COOKIE',
  'SQLi_URIPATH',
].map((name) => ({ name, notEmulated: 'pattern rule: SQL injection patterns, not published' }));

const IP_REPUTATION: ManagedRule[] = [
  'AWSManagedIPReputationList',
  'AWSManagedReconnaissanceList',
  'AWSManagedIPDDoSList',
].map((name) => ({ name, notEmulated: 'IP list maintained by AWS, not published' }));

/** By the `Name` of a `ManagedRuleGroupStatement` with `VendorName: AWS`. */
export const AWS_MANAGED_RULE_GROUPS: Record<string, ManagedRuleGroup> = {
  AWSManagedRulesCommonRuleSet: { id: 'AWS#AWSManagedRulesCommonRuleSet', rules: CORE_RULE_SET },
  AWSManagedRulesKnownBadInputsRuleSet: { id: 'AWS#AWSManagedRulesKnownBadInputsRuleSet', rules: KNOWN_BAD_INPUTS },
  AWSManagedRulesSQLiRuleSet: { id: 'AWS#AWSManagedRulesSQLiRuleSet', rules: SQL_DATABASE },
  AWSManagedRulesAmazonIpReputationList: { id: 'AWS#AWSManagedRulesAmazonIpReputationList', rules: IP_REPUTATION },
};
