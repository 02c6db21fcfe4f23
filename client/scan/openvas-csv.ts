/**
 * OpenVAS / Greenbone CSV reports (the "CSV Results" report format: one result a row, columns `IP`,
 * `Hostname`, `Port`, `Port Protocol`, `CVSS`, `Severity`, `NVT Name`, `NVT OID`…), read as a stream.
 * Rows become the same drafts as the XML report's results (openvas.ts), so both give the same VulnIDs.
 */
import { csvRows, startHasHeader } from './csv-table';
import { draftsOf, findingOf } from './draft';
import type { MappingOptions } from './mapping';
import { mergedRecords } from './spool';
import { isoDateOf, openvasDraftOf } from './openvas';
import type { ParseStats, ScanRecord } from './records';

export const OPENVAS_CSV_COLUMNS = {
  oid: ['NVT OID', 'OID'],
  name: ['NVT Name'],
  ip: ['IP'],
  hostname: ['Hostname'],
  port: ['Port'],
  protocol: ['Port Protocol'],
  score: ['CVSS'],
  threat: ['Severity'],
  summary: ['Summary'],
  evidence: ['Specific Result'],
  solution: ['Solution'],
  cves: ['CVEs'],
  references: ['Other References'],
  timestamp: ['Timestamp'],
} as const;

const SPEC = {
  format: 'OpenVAS CSV',
  delimiter: ',',
  columns: OPENVAS_CSV_COLUMNS,
  required: ['oid', 'name', 'ip'] as const,
};

/** A comma-separated header naming `NVT OID` and `NVT Name`. */
export const recogniseOpenvasCsv = (start: string) => startHasHeader(start, ',', ['NVT OID', 'NVT Name', 'IP']);

export function readOpenvasCsv(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  return mergedRecords(
    csvRows(input, SPEC),
    stats,
    (row) => {
      const outcome = openvasDraftOf({
        ip: row.cell('ip'),
        hostname: row.cell('hostname'),
        port: row.cell('port'),
        protocol: row.cell('protocol'),
        oid: row.cell('oid'),
        name: row.cell('name'),
        threat: row.cell('threat'),
        score: row.cell('score'),
        summary: row.cell('summary'),
        evidence: row.cell('evidence'),
        solution: row.cell('solution'),
        cves: [row.cell('cves') ?? ''],
        references: [row.cell('references') ?? ''],
        cwes: [],
        scannedAt: isoDateOf(row.cell('timestamp')),
      });
      return draftsOf(outcome, `record ${row.record}`, stats).map((draft) => findingOf(draft, options));
    },
    (finding) => `OpenVAS CSV ${finding.AssetName ?? ''} ${finding.RuleId ?? ''}`,
  );
}
