/**
 * From what a reader of any scanner read of one finding (a FindingDraft) to a finding of our schema:
 * the one place that decides the fields common to the OpenVAS, Qualys, Inspector and Security Hub
 * readers (docs/scan-import.md is the table). The Nessus-family readers keep `toFinding` (mapping.ts),
 * whose VulnIDs earlier pushes already stored.
 */
import { isIP } from 'node:net';
import { PACKAGE_LIMITS, TEXT_LIMITS, type Finding } from '../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../functions/shared/core/severity';
import { findingIdentity } from './identity';
import { cwesOf, referencesOf } from './packages';
import { noteIgnored, noteScanTime, type ParseStats, type ScanRecord } from './records';
import {
  assetNameOf,
  cvesOf,
  cvssOf,
  dueDateOf,
  multilineText,
  priorityOf,
  singleLine,
  type CvssPair,
  type MappingOptions,
  type ScanItem,
} from './mapping';

/** What a reader read of one finding, before any decision. */
export interface FindingDraft {
  /** The host names a network scanner reports (the first present of fqdn, dnsName, ip, name). */
  host: ScanItem['host'];
  /** The asset as the scanner names it, when it is no host (a cloud resource's ARN or id): wins over `host`. */
  asset?: string | undefined;
  /** The scanner's numeric id (Qualys QID), or undefined when its id is not a number. */
  pluginId?: number | undefined;
  /** The scanner's own non-numeric id (OpenVAS OID, CVE id of a package finding, ASFF generator id). */
  ruleId?: string | undefined;
  title: string;
  family?: string | undefined;
  /** The severity word as our Priority (already mapped from the scanner's scale); blank when it has none. */
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

/** The finding for one draft. Not yet validated: the caller validates with the API's own schema. */
export function findingOf(draft: FindingDraft, options: MappingOptions): DraftedFinding {
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
  const references = referencesOf(listItems(draft.references ?? []));
  const ruleId = text(draft.ruleId, PACKAGE_LIMITS.RuleId);
  const rule = draft.pluginId !== undefined ? String(draft.pluginId) : (ruleId ?? '');
  const epss = draft.epssScore;
  const finding: DraftedFinding = {
    VulnID: findingIdentity({
      scanner: options.scanner,
      asset,
      rule,
      location: draft.location.map((part) => (part === undefined ? '' : String(part))),
    }),
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
