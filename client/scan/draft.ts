/**
 * From what a reader of any scanner read of one finding (a FindingDraft, the one draft every reader
 * fills) to a finding of our schema: the one place that decides every field (docs/scan-import.md is the
 * table). Only the identity differs by family: the Nessus-family readers keep Nessus's own VulnIDs
 * (`nessusIdentity`, mapping.ts vulnIdOf), which earlier pushes already stored; every other reader's is
 * `findingIdentity` (identity.ts).
 */
import { isIP } from 'node:net';
import {
  CWE_PATTERN,
  MAX_CWES,
  MAX_REFERENCE_LENGTH,
  MAX_REFERENCES,
  PACKAGE_LIMITS,
  TEXT_LIMITS,
  type Finding,
} from '../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../functions/shared/core/severity';
import { findingIdentity } from './identity';
import { noteIgnored, noteScanTime, type ParseStats, type ScanRecord } from './records';
import {
  assetNameOf,
  cvesOf,
  cvssOf,
  dueDateOf,
  multilineText,
  priorityOf,
  singleLine,
  vulnIdOf,
  type CvssPair,
  type HostNames,
  type MappingOptions,
} from './mapping';

/** Reference URLs the finding keeps: http(s) only, each once, each ≤ 2048, at most 20 and about 8 KB in all. */
const REFERENCES_BUDGET = 8 * 1024;

function referencesOf(urls: (string | undefined)[]): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (const raw of urls) {
    const url = raw?.trim();
    if (url === undefined || url.length > MAX_REFERENCE_LENGTH || !/^https?:\/\/[\x21-\x7e]+$/i.test(url)) continue;
    if (kept.includes(url)) continue;
    try {
      if (new URL(url).hostname === '') continue;
    } catch {
      continue;
    }
    if (kept.length >= MAX_REFERENCES || bytes + url.length > REFERENCES_BUDGET) break;
    kept.push(url);
    bytes += url.length + 3;
  }
  return kept;
}

/** CWE ids as `CWE-<n>`, each once (`CWE-79`, `cwe-79` and `79` are one), at most 50. */
function cwesOf(values: (string | number | undefined)[]): string[] {
  const ids = values
    .map((value) =>
      String(value ?? '')
        .trim()
        .toUpperCase(),
    )
    .map((value) => (/^\d+$/.test(value) ? `CWE-${value}` : value))
    .filter((value) => CWE_PATTERN.test(value));
  return [...new Set(ids)].slice(0, MAX_CWES);
}

/** What a reader read of one finding, before any decision. */
export interface FindingDraft {
  /** The host names a network scanner reports (the first present of fqdn, dnsName, ip, name). */
  host: HostNames;
  /** The asset as the scanner names it, when it is no host (a cloud resource's ARN or id): wins over `host`. */
  asset?: string | undefined;
  /** The scanner's numeric id (Nessus plugin, Qualys QID), or undefined when its id is not a number. */
  pluginId?: number | undefined;
  /** The scanner's own non-numeric id (OpenVAS OID, CVE id of a package finding, ASFF generator id). */
  ruleId?: string | undefined;
  title: string;
  family?: string | undefined;
  /**
   * The scanner's severity as a word (Critical … Info, Negligible, Unknown) or Nessus's 0–4, turned into
   * our Priority by priorityOf (a reader maps any other scale first); blank when it has none.
   */
  priority: string;
  cves: string[];
  cvss3?: CvssPair | undefined;
  cvss4?: CvssPair | undefined;
  cvss2?: CvssPair | undefined;
  port?: number | undefined;
  protocol?: string | undefined;
  description?: string | undefined;
  solution?: string | undefined;
  evidence?: string | undefined;
  packageName?: string | undefined;
  packageVersion?: string | undefined;
  fixedVersion?: string | undefined;
  packagePath?: string | undefined;
  cwes?: string[] | undefined;
  references?: string[] | undefined;
  epssScore?: number | undefined;
  knownExploit?: boolean | undefined;
  /** What besides asset and rule tells two findings apart: port and protocol, or package, version and path. */
  location: (string | number | undefined)[];
  scannedAt?: Date | undefined;
}

/**
 * A record left out by design, not an error: the scanner says it is remediated, suppressed or a false
 * positive. Counted by kind in ParseStats.ignored ("left out: 2 fixed"); a completed run then closes
 * the finding if an earlier push had it open.
 */
export class LeftOut {
  constructor(readonly kind: string) {}
}

/** What a reader makes of one record: its drafts, a record left out, or why it cannot be mapped (skipped). */
export type Outcome = FindingDraft | FindingDraft[] | LeftOut | string;

/** Counts one record's outcome in `stats` and gives its drafts (none when skipped or left out). */
export function draftsOf(outcome: Outcome, where: string, stats: ParseStats): FindingDraft[] {
  if (typeof outcome === 'string') {
    stats.skipped.push({ where, reason: outcome });
    return [];
  }
  if (outcome instanceof LeftOut) {
    noteIgnored(stats, outcome.kind);
    return [];
  }
  const drafts = Array.isArray(outcome) ? outcome : [outcome];
  for (const draft of drafts) noteScanTime(stats, draft.scannedAt);
  return drafts;
}

/**
 * The findings of a stream of outcomes, yielded as they come (memory holds their VulnIDs, not the
 * findings): a later finding with the VulnID of an earlier one is the same finding, left out as
 * `repeated`, as the package readers do.
 */
export async function* uniqueFindings(
  outcomes: AsyncIterable<{ outcome: Outcome; where: string }>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const seen = new Set<string>();
  for await (const { outcome, where } of outcomes) {
    for (const draft of draftsOf(outcome, where, stats)) {
      const finding = findingOf(draft, options);
      const id = finding.VulnID as string;
      if (seen.has(id)) {
        noteIgnored(stats, 'repeated');
        continue;
      }
      seen.add(id);
      yield { finding, where };
    }
  }
}

/** What the readers of this module produce: Finding's fields, each still to be validated. */
export type DraftedFinding = Partial<Finding>;

const PROTOCOLS = new Set(['tcp', 'udp', 'icmp']);

/** Cells and lists that hold several ids or URLs (`200, 330`, one URL a line), as single values. */
export const listItems = (values: (string | number | undefined)[]): string[] =>
  values.flatMap((value) => String(value ?? '').split(/[\s,;]+/)).filter((value) => value !== '');

const text = (value: string | undefined, max: number) =>
  value === undefined ? undefined : singleLine(value, max) || undefined;

/** A port number if the text is one (0–65535), else undefined. */
export function portOf(value: string | number | undefined): number | undefined {
  const port = typeof value === 'number' ? value : /^\s*\d{1,5}\s*$/.test(value ?? '') ? Number(value) : NaN;
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

/** What a draft's VulnID is made from, once the asset, port and protocol are decided. */
export interface IdentityInput {
  draft: FindingDraft;
  asset: string;
  rule: string;
  port: number | undefined;
  protocol: Finding['Protocol'] | undefined;
  options: MappingOptions;
}
export type IdentityOf = (input: IdentityInput) => string;

/** Every reader's identity but the Nessus family's: scanner, asset, rule and the draft's location. */
const draftIdentity: IdentityOf = ({ draft, asset, rule, options }) =>
  findingIdentity({
    scanner: options.scanner,
    asset,
    rule,
    location: draft.location.map((part) => (part === undefined ? '' : String(part))),
  });

/** The ids Nessus, Tenable.sc CSV and Tenable VM exports have always had: asset, plugin, port and protocol. */
export const nessusIdentity: IdentityOf = ({ draft, asset, port, protocol, options }) =>
  vulnIdOf(options.scanner, asset, draft.pluginId ?? 0, port, protocol);

/**
 * URLs of cells that may hold several (one a line, or `a, b`): split at blanks, and at a comma or
 * semicolon only where another URL starts, so a URL with a comma in it stays whole.
 */
const urlItems = (values: string[]): string[] =>
  values.flatMap((value) => value.split(/\s+|[,;](?=\s*https?:\/\/)/i)).filter((value) => value !== '');

/** The finding for one draft. Not yet validated: the caller validates with the API's own schema. */
export function findingOf(
  draft: FindingDraft,
  options: MappingOptions,
  identityOf: IdentityOf = draftIdentity,
): DraftedFinding {
  const asset = (draft.asset === undefined ? undefined : singleLine(draft.asset, 255)) || assetNameOf(draft.host) || '';
  const protocol = draft.protocol?.trim().toLowerCase();
  const knownProtocol =
    protocol !== undefined && PROTOCOLS.has(protocol) ? (protocol as Finding['Protocol']) : undefined;
  const port = portOf(draft.port);
  const cvss = cvssOf(draft);
  const priority = priorityOf(draft.priority);
  const severity = deriveSeverity(priority, cvss.CvssScore);
  const days = options.dueDays[severity === 'UNKNOWN' ? 'MEDIUM' : severity];
  const cves = cvesOf(draft.cves);
  const cwes = cwesOf(listItems(draft.cwes ?? []));
  const references = referencesOf(urlItems(draft.references ?? []));
  const ruleId = text(draft.ruleId, PACKAGE_LIMITS.RuleId);
  const rule = draft.pluginId !== undefined ? String(draft.pluginId) : (ruleId ?? '');
  const epss = draft.epssScore;
  const finding: DraftedFinding = {
    VulnID: identityOf({ draft, asset, rule, port, protocol: knownProtocol, options }),
    Org: options.org,
    AssetName: asset,
    DueDate: dueDateOf(draft.scannedAt ?? options.now, days),
    PluginId: draft.pluginId,
    RuleId: ruleId,
    PluginName: singleLine(draft.title, 512),
    Priority: priority,
    Cves: cves.length > 0 ? cves : undefined,
    ...cvss,
    Port: port,
    Protocol: knownProtocol,
    IpAddress: draft.host.ip !== undefined && isIP(draft.host.ip) !== 0 ? draft.host.ip : undefined,
    PluginFamily: text(draft.family, 128),
    Description: multilineText(draft.description, TEXT_LIMITS.Description),
    Solution: multilineText(draft.solution, TEXT_LIMITS.Solution),
    Evidence: multilineText(draft.evidence, TEXT_LIMITS.Evidence),
    PackageName: text(draft.packageName, PACKAGE_LIMITS.PackageName),
    PackageVersion: text(draft.packageVersion, PACKAGE_LIMITS.PackageVersion),
    FixedVersion: text(draft.fixedVersion, PACKAGE_LIMITS.FixedVersion),
    PackagePath: text(draft.packagePath, PACKAGE_LIMITS.PackagePath),
    Cwes: cwes.length > 0 ? cwes : undefined,
    References: references.length > 0 ? references : undefined,
    EpssScore: epss !== undefined && Number.isFinite(epss) && epss >= 0 && epss <= 1 ? epss : undefined,
    KnownExploit: draft.knownExploit,
    Scanner: options.scanner,
  };
  return Object.fromEntries(Object.entries(finding).filter(([, value]) => value !== undefined)) as DraftedFinding;
}

/**
 * The findings of a JSON export's items (`arrayName`'s elements, as they come), each mapped by `draftsOf`:
 * every item counted and named by its index for messages, the same finding kept once.
 */
export async function* itemFindings(
  items: AsyncIterable<unknown>,
  arrayName: string,
  draftsOf: (item: unknown) => Outcome,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  async function* outcomes() {
    for await (const item of items) {
      stats.items += 1;
      yield { outcome: draftsOf(item), where: `${arrayName}[${stats.items - 1}]` };
    }
  }
  yield* uniqueFindings(outcomes(), options, stats);
}
