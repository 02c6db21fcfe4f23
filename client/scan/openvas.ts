/**
 * What the OpenVAS / Greenbone XML and CSV readers share: a result read from either becomes the same
 * FindingDraft, so the XML and the CSV export of one report give the same findings and VulnIDs.
 * Identity: host, NVT OID, and the port with its protocol when the result is on a port (a `general/tcp`
 * result, which the CSV writes with no port and no protocol, has no location).
 */
import { LeftOut, portOf, type Outcome } from './draft';

export const OPENVAS_SCANNER = 'openvas';

/** Greenbone's threat levels (its NVD-based severity classes) to our Priority words; Log and Debug are INFO. */
const THREATS: Record<string, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  log: 'Info',
  debug: 'Info',
};
/** Results that are no finding, left out by design: marked false positives, and the scan's own errors. */
const NOT_FINDINGS: Record<string, string> = { 'false positive': 'false positives', error: 'scan errors' };

/** What either export says of one result. */
export interface OpenvasResult {
  ip?: string | undefined;
  hostname?: string | undefined;
  /** `80/tcp`, `general/tcp` (XML), or the port alone (CSV). */
  port?: string | undefined;
  protocol?: string | undefined;
  oid?: string | undefined;
  name?: string | undefined;
  family?: string | undefined;
  threat?: string | undefined;
  /** The result's severity: a CVSS base score, 0 for a log, negative for false positives and errors. */
  score?: string | undefined;
  vector?: string | undefined;
  summary?: string | undefined;
  solution?: string | undefined;
  evidence?: string | undefined;
  cves: string[];
  references: string[];
  cwes: string[];
  scannedAt?: Date | undefined;
}

/** `512/tcp` → 512 and tcp; `general/tcp` → no port, tcp; a bare `9200` → 9200. */
export function portAndProtocolOf(port: string | undefined, protocol: string | undefined) {
  const [number, ofPort] = (port ?? '').split('/', 2);
  return { port: portOf(number), protocol: (ofPort ?? protocol)?.trim().toLowerCase() || undefined };
}

/** The draft for one result, a result left out, or why it cannot be mapped. */
export function openvasDraftOf(result: OpenvasResult): Outcome {
  if (!result.oid) return 'the result names no NVT OID';
  const threat = result.threat?.trim().toLowerCase() ?? '';
  if (Object.hasOwn(NOT_FINDINGS, threat)) return new LeftOut(NOT_FINDINGS[threat] as string);
  const { port, protocol } = portAndProtocolOf(result.port, result.protocol);
  const vector = result.vector?.trim();
  const pair = { score: result.score, vector };
  const isV2 = vector !== undefined && !vector.startsWith('CVSS:');
  return {
    host: { dnsName: result.hostname, ip: result.ip },
    ruleId: result.oid,
    title: result.name ?? result.oid,
    family: result.family,
    priority: Object.hasOwn(THREATS, threat) ? (THREATS[threat] as string) : (result.threat ?? ''),
    cves: result.cves,
    ...(isV2 ? { cvss2: pair } : { cvss3: pair }),
    port,
    protocol,
    description: result.summary,
    solution: result.solution,
    evidence: result.evidence,
    cwes: result.cwes,
    references: result.references,
    location: port === undefined ? [] : [port, protocol],
    scannedAt: result.scannedAt,
  };
}

/** Date of an ISO 8601 timestamp, or undefined. */
export function isoDateOf(value: string | undefined): Date | undefined {
  const parsed = Date.parse(value ?? '');
  return Number.isFinite(parsed) ? new Date(parsed) : undefined;
}
