import { isIP } from 'node:net';
import * as z from 'zod';
import { toIsoDate } from './dates';
import { MAX_FINDINGS_PER_REQUEST } from './limits';

/**
 * The finding as scanners send it: the single source of truth for the Validate step and the
 * normalizer's input type. (API Gateway's request model checks only the envelope: api/request-model.ts.)
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
/** Printable text without control characters (log and dashboard injection). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;
/** Long scanner text (descriptions, plugin output): newlines and tabs kept, other control characters refused. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const PRINTABLE_MULTILINE = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;

/** A string that says "is required" when absent instead of zod's generic type message. */
const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

/** Text of 1 to `max` characters that `pattern` (which characters it may hold) accepts. */
const boundedText = (max: number, pattern: RegExp, patternMessage: string) =>
  requiredString()
    .min(1, { error: 'must not be empty', abort: true })
    .max(max, { error: `must be at most ${max} characters`, abort: true })
    .regex(pattern, { error: patternMessage, abort: true });

const nonEmptyText = (max: number) => boundedText(max, PRINTABLE, 'must not contain control characters');

/** Bounds of the long text fields: one finding at its largest stays well under a 64 KB request. */
export const TEXT_LIMITS = { Description: 8192, Solution: 4096, Evidence: 4096 } as const;
export const MAX_CVES = 100;

const multilineText = (max: number) =>
  boundedText(max, PRINTABLE_MULTILINE, 'must not contain control characters other than newline and tab');

export const CVE_PATTERN = /^CVE-\d{4}-\d{4,19}$/;
export const CWE_PATTERN = /^CWE-\d{1,7}$/;

/** An optional list of at most `max` ids of a kind (CVE, CWE), each as `pattern` says, like `example`. */
const idList = (kind: string, pattern: RegExp, example: string, max: number) =>
  z
    .array(requiredString().regex(pattern, `must be a ${kind} id like ${example}`), {
      error: `must be an array of ${kind} ids`,
    })
    .max(max, `must hold at most ${max} ${kind} ids`)
    .optional();
/** Bounds of the package and cloud scanners' fields ([14]); see MAX_FINDING_BYTES for the whole. */
export const PACKAGE_LIMITS = {
  RuleId: 256,
  PackageName: 256,
  PackageVersion: 128,
  FixedVersion: 256,
  PackagePath: 1024,
} as const;
export const MAX_CWES = 50;
export const MAX_REFERENCES = 20;
export const MAX_REFERENCE_LENGTH = 2048;
/**
 * One finding's JSON, in UTF-8 bytes: a batch of one must pass the deployed 64 KB body limit (the WAF
 * size rule) with its envelope (`{"runId":"…","findings":[…]}`), whatever mix of long fields it has.
 * Each field's own bound allows more in sum (8 KB of three-byte characters is 24 KB), so the whole is bounded too.
 */
export const MAX_FINDING_BYTES = 60 * 1024;

/** An absolute http(s) URL of printable ASCII (a reference link a dashboard may render). */
function isWebUrl(value: string): boolean {
  if (!/^https?:\/\/[\x21-\x7e]+$/i.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}
export const CVSS_VERSIONS = ['2.0', '3.0', '3.1', '4.0'] as const;
export type CvssVersion = (typeof CVSS_VERSIONS)[number];
/**
 * Base metrics in the order each specification writes them, then any temporal/environmental
 * metrics. CVSS v2 vectors carry no prefix (Nessus's `CVSS2#` is removed by the import).
 * v2: https://www.first.org/cvss/v2/guide, v3.1: https://www.first.org/cvss/v3-1/specification-document,
 * v4.0: https://www.first.org/cvss/v4-0/specification-document.
 */
const EXTRA_METRICS = '(/[A-Za-z]{1,3}:[A-Za-z]{1,5})*';
export const CVSS_VECTOR_PATTERNS: Record<CvssVersion, RegExp> = {
  '2.0': new RegExp(`^AV:[LAN]/AC:[HML]/Au:[MSN]/C:[NPC]/I:[NPC]/A:[NPC]${EXTRA_METRICS}$`),
  '3.0': new RegExp(`^CVSS:3\\.0/AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[HLN]/I:[HLN]/A:[HLN]${EXTRA_METRICS}$`),
  '3.1': new RegExp(`^CVSS:3\\.1/AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[HLN]/I:[HLN]/A:[HLN]${EXTRA_METRICS}$`),
  '4.0': new RegExp(
    `^CVSS:4\\.0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[HLN]/VI:[HLN]/VA:[HLN]/SC:[HLN]/SI:[HLN]/SA:[HLN]${EXTRA_METRICS}$`,
  ),
};
/** Either version family's pattern, for the request model (the version check is the refinement below). */
const ANY_CVSS_VECTOR = new RegExp(
  Object.values(CVSS_VECTOR_PATTERNS)
    .map((pattern) => `(${pattern.source})`)
    .join('|'),
);

/** The CVSS version a vector is written in, or undefined when it matches none of them. */
export function cvssVersionOf(vector: string): CvssVersion | undefined {
  return CVSS_VERSIONS.find((version) => CVSS_VECTOR_PATTERNS[version].test(vector));
}

export const PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;

export const orgSchema = requiredString()
  .min(1, { error: 'must not be empty', abort: true })
  .max(64, { error: 'must be at most 64 characters', abort: true })
  .regex(SAFE_ID, 'must use only letters, digits and . _ : @ - (starting with a letter or digit)');

export const vulnIdSchema = requiredString()
  .min(1, { error: 'must not be empty', abort: true })
  .max(128, { error: 'must be at most 128 characters', abort: true })
  .regex(SAFE_ID, 'must use only letters, digits and . _ : @ - (starting with a letter or digit)');

/*
 * Built in a `@__PURE__` function call: building a schema has no effect outside it, so esbuild may leave the finding
 * and batch schemas out of the functions that import this module for its small parts only (GetFindings, Authorize,
 * the scan-run and triage functions: the org, id and run-id schemas, the patterns and field lists). esbuild reads
 * the annotation on a call, not on a chain of calls, hence the arrow function (docs/performance.md, "Cold start").
 */
export const findingSchema = /* @__PURE__ */ (() =>
  z
    .strictObject({
      VulnID: vulnIdSchema,
      Org: orgSchema,
      AssetName: nonEmptyText(255).refine((v) => v.trim().length > 0, 'must not be blank'),
      DueDate: requiredString()
        .regex(/^(\d{2}-\d{2}-\d{4}|\d{4}-\d{2}-\d{2})$/, { error: 'must be MM-DD-YYYY or YYYY-MM-DD', abort: true })
        .refine((v) => toIsoDate(v) !== null, 'must be a real calendar date'),
      // A finding names what found it: the plugin's number (Nessus, Tenable, Qualys QID) or the scanner's own
      // rule id (an OpenVAS OID, a CVE or GHSA id of a package finding, an Inspector finding type); the refinement below.
      PluginId: z
        .number({ error: 'must be a number' })
        .int('must be an integer')
        .min(0, 'must not be negative')
        .max(2_147_483_647, 'is too large')
        .optional(),
      PluginName: nonEmptyText(512),
      Priority: nonEmptyText(64),
      // Optional scanner detail ([5]): validated here, stored and answered by GET as sent (normalized).
      Cves: idList('CVE', CVE_PATTERN, 'CVE-2021-44228', MAX_CVES),
      CvssScore: z
        .number({ error: 'must be a number' })
        .min(0, 'must be between 0 and 10')
        .max(10, 'must be between 0 and 10')
        .refine((value) => Math.abs(value * 10 - Math.round(value * 10)) < 1e-9, 'must have at most one decimal')
        .optional(),
      CvssVector: requiredString()
        .max(256, { error: 'must be at most 256 characters', abort: true })
        .regex(ANY_CVSS_VECTOR, 'must be a CVSS 2.0, 3.x or 4.0 vector')
        .optional(),
      CvssVersion: z.enum(CVSS_VERSIONS, { error: `must be one of ${CVSS_VERSIONS.join(', ')}` }).optional(),
      Port: z
        .number({ error: 'must be a number' })
        .int('must be an integer')
        .min(0, 'must be between 0 and 65535')
        .max(65535, 'must be between 0 and 65535')
        .optional(),
      Protocol: z.enum(PROTOCOLS, { error: `must be one of ${PROTOCOLS.join(', ')}` }).optional(),
      IpAddress: requiredString()
        .max(45, { error: 'must be an IPv4 or IPv6 address', abort: true })
        .refine((value) => isIP(value) !== 0, 'must be an IPv4 or IPv6 address')
        .optional(),
      PluginFamily: nonEmptyText(128).optional(),
      Description: multilineText(TEXT_LIMITS.Description).optional(),
      Solution: multilineText(TEXT_LIMITS.Solution).optional(),
      Evidence: multilineText(TEXT_LIMITS.Evidence).optional(),
      Scanner: requiredString()
        .max(64, { error: 'must be at most 64 characters', abort: true })
        .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits and . _ -')
        .optional(),
      // Package and cloud scanners' detail ([14]).
      RuleId: nonEmptyText(PACKAGE_LIMITS.RuleId).optional(),
      PackageName: nonEmptyText(PACKAGE_LIMITS.PackageName).optional(),
      PackageVersion: nonEmptyText(PACKAGE_LIMITS.PackageVersion).optional(),
      FixedVersion: nonEmptyText(PACKAGE_LIMITS.FixedVersion).optional(),
      PackagePath: nonEmptyText(PACKAGE_LIMITS.PackagePath).optional(),
      Cwes: idList('CWE', CWE_PATTERN, 'CWE-79', MAX_CWES),
      References: z
        .array(
          requiredString()
            .max(MAX_REFERENCE_LENGTH, { error: `must be at most ${MAX_REFERENCE_LENGTH} characters`, abort: true })
            .refine(isWebUrl, 'must be an http or https URL'),
          { error: 'must be an array of URLs' },
        )
        .max(MAX_REFERENCES, `must hold at most ${MAX_REFERENCES} URLs`)
        .optional(),
      EpssScore: z
        .number({ error: 'must be a number' })
        .min(0, 'must be between 0 and 1')
        .max(1, 'must be between 0 and 1')
        .optional(),
      KnownExploit: z.boolean({ error: 'must be true or false' }).optional(),
    })
    // Said even when other fields are wrong (`when`), so a finding with neither hears of it at once.
    .refine(
      (finding: unknown) =>
        typeof finding !== 'object' ||
        finding === null ||
        (finding as Record<string, unknown>).PluginId !== undefined ||
        (finding as Record<string, unknown>).RuleId !== undefined,
      { path: ['PluginId'], message: 'is required (or a RuleId)', when: () => true },
    )
    .superRefine((finding, context) => {
      const bytes = Buffer.byteLength(JSON.stringify(finding));
      if (bytes > MAX_FINDING_BYTES)
        context.addIssue({
          code: 'custom',
          path: [],
          message: `is ${bytes} bytes of JSON, over ${MAX_FINDING_BYTES}: shorten Description, Solution, Evidence or References`,
        });
      // A vector says which version it is written in; the version field must agree, and needs a vector.
      if (finding.CvssVector === undefined) {
        if (finding.CvssVersion !== undefined)
          context.addIssue({ code: 'custom', path: ['CvssVersion'], message: 'needs a CvssVector' });
        return;
      }
      const version = cvssVersionOf(finding.CvssVector);
      if (version !== undefined && finding.CvssVersion !== version) {
        context.addIssue({ code: 'custom', path: ['CvssVersion'], message: `must be ${version} for this CvssVector` });
      }
    }))();

/** The optional fields: storage removes those a re-report no longer carries (PluginId became optional with [14]). */
export const OPTIONAL_FINDING_FIELDS = [
  'Cves',
  'CvssScore',
  'CvssVector',
  'CvssVersion',
  'Port',
  'Protocol',
  'IpAddress',
  'PluginFamily',
  'Description',
  'Solution',
  'Evidence',
  'Scanner',
  'PluginId',
  'RuleId',
  'PackageName',
  'PackageVersion',
  'FixedVersion',
  'PackagePath',
  'Cwes',
  'References',
  'EpssScore',
  'KnownExploit',
] as const;

/** Scan run ids are ours (random UUIDs, POST /scans): anything else is a run that does not exist. */
export const RUN_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const runIdSchema = z
  .string({ error: 'must be a run id' })
  .regex(RUN_ID_PATTERN, 'must be a run id returned by POST /scans');

export const batchSchema = /* @__PURE__ */ (() =>
  z.strictObject({
    /** The scan run the batch belongs to (POST /scans); without it the request's time is the scan's. */
    runId: runIdSchema.optional(),
    findings: z
      .array(findingSchema)
      .min(1, 'must hold at least one finding')
      .max(MAX_FINDINGS_PER_REQUEST, `must hold at most ${MAX_FINDINGS_PER_REQUEST} findings`),
  }))();

export type Finding = z.infer<typeof findingSchema>;
