/**
 * From what a reader of any scanner read of one finding (a FindingDraft) to a finding of our schema:
 * the one place that decides the fields common to the OpenVAS, Qualys, Inspector and Security Hub
 * readers (docs/scan-import.md is the table). The Nessus-family readers keep `toFinding` (mapping.ts),
 * whose VulnIDs earlier pushes already stored.
 */
import { isIP } from 'node:net';
import {
  MAX_CWES,
  MAX_REFERENCE_LENGTH,
  MAX_REFERENCES,
  PACKAGE_LIMITS,
  TEXT_LIMITS,
  type Finding,
} from '../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../functions/shared/core/severity';
import { findingIdentity } from './identity';
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

/** What the readers of this module produce: Finding's fields, each still to be validated. */
export type DraftedFinding = Partial<Finding>;

const PROTOCOLS = new Set(['tcp', 'udp', 'icmp']);

/** `CWE-79` from `79`, `CWE-79` or `cwe 79`; each once, at most MAX_CWES. */
export function cwesOf(values: (string | number)[]): string[] {
  const ids = values
    .flatMap((value) => String(value).split(/[\s,;]+(?=\D*\d)/))
    .map((value) => /^(?:CWE[-\s]?)?(\d{1,6})$/i.exec(value.trim())?.[1])
    .filter((id): id is string => id !== undefined)
    .map((id) => `CWE-${Number(id)}`);
  return [...new Set(ids)].slice(0, MAX_CWES);
}

/** http(s) URLs, each once, at most MAX_REFERENCES, each at most MAX_REFERENCE_LENGTH; others are left out. */
export function referencesOf(values: string[]): string[] {
  const urls = values
    .flatMap((value) => value.split(/[\s,]+/))
    .map((value) => value.trim())
    .filter(
      (value) => value.length <= MAX_REFERENCE_LENGTH && /^https?:\/\/\S+$/i.test(value) && !/\p{Cc}/u.test(value),
    )
    .filter((value) => {
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    });
  return [...new Set(urls)].slice(0, MAX_REFERENCES);
}

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
  const cwes = cwesOf(draft.cwes ?? []);
  const references = referencesOf(draft.references ?? []);
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
