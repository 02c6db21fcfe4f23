/**
 * Qualys VM / VMDR CSV exports, one detection a row: the VMDR "Asset Vuln Datalist" (report title,
 * company and user lines above the header; `Asset Name`, `Asset IPV4`, `Type Detected`, `Status`) and
 * the scan report (`IP`, `DNS`, `NetBIOS`, `FQDN`, `Type`, `Vuln Status`, `CVSS3 Base`). Columns are
 * found by name, so both read with one table. The QID is the PluginId (a number); the identity is the
 * host, the QID, the port, the protocol and the Qualys instance (a database instance; blank for most).
 */
import { csvRows, startHasHeader, type CsvRow } from './csv-table';
import { draftsOf, findingOf, LeftOut, portOf, type Outcome } from './draft';
import type { MappingOptions } from './mapping';
import { mergedRecords } from './spool';
import type { ParseStats, ScanRecord } from './records';
import { qualysDateOf, qualysPriorityOf, scoreAndVectorOf } from './qualys';

export const QUALYS_CSV_COLUMNS = {
  qid: ['QID'],
  title: ['Title'],
  severity: ['Severity'],
  type: ['Type', 'Type Detected'],
  status: ['Vuln Status', 'Status'],
  fqdn: ['FQDN'],
  dnsName: ['DNS', 'DNS Name', 'Asset Name'],
  ip: ['IP', 'IP Address', 'Asset IPV4'],
  ipv6: ['Asset IPV6', 'IPv6'],
  netbios: ['NetBIOS', 'NetBIOS Name'],
  port: ['Port'],
  protocol: ['Protocol'],
  instance: ['Instance'],
  cve: ['CVE ID', 'CVE IDs', 'CVE'],
  cvss3: ['CVSS3 Base', 'CVSS3.1 Base', 'CVSSv3.1 Base', 'CVSS V3 Base'],
  cvss2: ['CVSS Base', 'CVSS V2 Base'],
  threat: ['Threat'],
  impact: ['Impact'],
  solution: ['Solution'],
  results: ['Results'],
  category: ['Category'],
  exploitability: ['Exploitability'],
  rti: ['RTI'],
  lastDetected: ['Last Detected'],
} as const;
type Field = keyof typeof QUALYS_CSV_COLUMNS;

const SPEC = {
  format: 'Qualys CSV',
  delimiter: ',',
  columns: QUALYS_CSV_COLUMNS,
  required: ['qid', 'title', 'severity'] as const,
  preambleRows: 10,
};

/** A header naming `QID`, `Title` and `Severity` in the first lines (VMDR writes three lines above it). */
export const recogniseQualysCsv = (start: string) => startHasHeader(start, ',', ['QID', 'Title', 'Severity'], 12);

/** RTI tags that say an exploit exists or is used (Qualys's real-time threat indicators). */
const EXPLOIT_RTI =
  /^(active attacks?|active exploit|public exploit|exploit public|exploit kit|malware|cisa known exploited vulns)$/i;

function knownExploitOf(row: CsvRow<Field>, hasRti: boolean, hasExploitability: boolean): boolean | undefined {
  if (row.cell('exploitability') !== undefined) return true;
  const rti = (row.cell('rti') ?? '').split(',').map((tag) => tag.trim());
  if (rti.some((tag) => EXPLOIT_RTI.test(tag))) return true;
  return hasRti || hasExploitability ? false : undefined;
}

const firstOf = (value: string | undefined) => value?.split(/[,\s]+/)[0] || undefined;

function draftOf(row: CsvRow<Field>, columns: { rti: boolean; exploitability: boolean }): Outcome {
  const qidText = row.cell('qid');
  const qid = Number(qidText);
  if (qidText === undefined || !/^\d+$/.test(qidText) || !Number.isSafeInteger(qid))
    return 'the QID is not a whole number';
  // Status Fixed: Qualys saw it remediated.
  if (row.cell('status')?.toLowerCase() === 'fixed') return new LeftOut('fixed');
  const port = portOf(row.cell('port'));
  const protocol = row.cell('protocol')?.toLowerCase();
  const impact = row.cell('impact');
  const description = [row.cell('threat'), impact === undefined ? undefined : `Impact: ${impact}`]
    .filter((part) => part !== undefined)
    .join('\n\n');
  return {
    host: {
      fqdn: row.cell('fqdn'),
      dnsName: row.cell('dnsName'),
      ip: firstOf(row.cell('ip')) ?? firstOf(row.cell('ipv6')),
      name: row.cell('netbios'),
    },
    pluginId: qid,
    title: row.cell('title') ?? qidText,
    family: row.cell('category'),
    priority: qualysPriorityOf(row.cell('severity'), row.cell('type')),
    cves: [row.cell('cve') ?? ''],
    cvss3: scoreAndVectorOf(row.cell('cvss3')),
    cvss2: scoreAndVectorOf(row.cell('cvss2')),
    port,
    protocol,
    description: description || undefined,
    solution: row.cell('solution'),
    evidence: row.cell('results'),
    knownExploit: knownExploitOf(row, columns.rti, columns.exploitability),
    location: [port, protocol, row.cell('instance')],
    scannedAt: qualysDateOf(row.cell('lastDetected')),
  };
}

export function readQualysCsv(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  return mergedRecords(
    csvRows(input, SPEC),
    stats,
    (row) => {
      const outcome = draftOf(row, { rti: row.has('rti'), exploitability: row.has('exploitability') });
      return draftsOf(outcome, `record ${row.record}`, stats).map((draft) => findingOf(draft, options));
    },
    (finding) => `Qualys CSV ${finding.AssetName ?? ''} QID ${finding.PluginId ?? ''}`,
  );
}
