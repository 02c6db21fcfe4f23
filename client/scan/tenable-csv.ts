/**
 * Tenable / Nessus CSV exports, read as a stream with csv-parse (quoted multi-line cells are the
 * rule: plugin output, descriptions, CPE lists). Columns are found by name, never by position, since
 * Nessus, Tenable.sc and Tenable.io each name and order them differently. Rows of the same host,
 * plugin, port and protocol (exports that write one row per CVE) merge into one finding with all
 * CVEs; as such rows need not be adjacent, the findings of one file are spooled to a temporary file
 * and merged at its end (spool.ts: memory holds a key per finding).
 */
import { csvHeaderOf, readCsv } from './csv-stream';
import { utf8Text } from './input';
import { findingOf, nessusIdentity, type FindingDraft } from './draft';
import type { MappingOptions } from './mapping';
import { mergedRecords } from './spool';
import { NotAScanExportError, noteScanTime, type ParseStats, type ScanRecord } from './records';

/** Header names each field is read from, first found wins; compared lower-cased without spaces, dots or underscores. */
export const CSV_COLUMNS = {
  pluginId: ['Plugin ID', 'Plugin', 'PluginID'],
  pluginName: ['Plugin Name', 'Name', 'Title'],
  family: ['Family', 'Plugin Family'],
  severity: ['Severity', 'Risk', 'Risk Factor'],
  fqdn: ['FQDN', 'Host FQDN'],
  dnsName: ['DNS Name', 'DNS', 'Host Name', 'Hostname'],
  host: ['Host', 'Asset'],
  ip: ['IP Address', 'IP', 'Host IP'],
  netbios: ['NetBIOS Name', 'NetBIOS'],
  protocol: ['Protocol'],
  port: ['Port'],
  cve: ['CVE', 'CVEs'],
  cvss3Score: ['CVSS V3 Base Score', 'CVSS v3.0 Base Score', 'CVSS3 Base Score', 'CVSS V3 Score'],
  cvss3Vector: ['CVSS V3 Vector', 'CVSS v3.0 Vector', 'CVSS3 Vector'],
  cvss4Score: ['CVSS V4 Base Score', 'CVSS v4.0 Base Score', 'CVSS4 Base Score'],
  cvss4Vector: ['CVSS V4 Vector', 'CVSS v4.0 Vector', 'CVSS4 Vector'],
  cvss2Score: ['CVSS V2 Base Score', 'CVSS v2.0 Base Score', 'CVSS2 Base Score', 'CVSS'],
  cvss2Vector: ['CVSS V2 Vector', 'CVSS v2.0 Vector', 'CVSS2 Vector'],
  description: ['Description', 'Synopsis'],
  solution: ['Solution'],
  evidence: ['Plugin Output', 'Plugin Text', 'Output'],
  scannedAt: ['Last Observed', 'Last Seen', 'Scan Date', 'Last Found', 'Plugin Output Date'],
} as const;

type Column = keyof typeof CSV_COLUMNS;
const headerKey = (name: string) => name.toLowerCase().replace(/[\s._-]+/g, '');

/** Column positions by field, from a header row; undefined for a field the export does not have. */
export function columnsOf(header: string[]): Partial<Record<Column, number>> {
  const positions = new Map<string, number>();
  header.forEach((name, index) => {
    const key = headerKey(name);
    if (!positions.has(key)) positions.set(key, index);
  });
  const columns: Partial<Record<Column, number>> = {};
  for (const [field, names] of Object.entries(CSV_COLUMNS) as [Column, readonly string[]][]) {
    const position = names.map((name) => positions.get(headerKey(name))).find((found) => found !== undefined);
    if (position !== undefined) columns[field] = position;
  }
  return columns;
}

function missingColumns(columns: Partial<Record<Column, number>>): string[] {
  const missing: string[] = [];
  if (columns.pluginId === undefined) missing.push('Plugin ID (or Plugin)');
  if (columns.pluginName === undefined) missing.push('Plugin Name (or Name)');
  if (
    columns.host === undefined &&
    columns.ip === undefined &&
    columns.dnsName === undefined &&
    columns.fqdn === undefined
  )
    missing.push('Host (or IP Address, DNS Name, FQDN)');
  return missing;
}

/** Whether the start of a file is a Tenable/Nessus CSV export: a comma-separated header with those columns. */
export const isTenableCsv = (start: string): boolean => {
  const header = csvHeaderOf(start);
  return header !== undefined && missingColumns(columnsOf(header)).length === 0;
};

function requireColumns(columns: Partial<Record<Column, number>>): void {
  const missing = missingColumns(columns);
  if (missing.length > 0)
    throw new NotAScanExportError(`its header has no ${missing.join(', no ')} column: not a Tenable/Nessus CSV export`);
}

/** "Plugin Output: …" (Tenable.sc's Plugin Text) loses its label. */
const withoutLabel = (value: string | undefined) => value?.replace(/^\s*Plugin Output:\s*/i, '');

function scanDateOf(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? new Date(parsed) : undefined;
}

function scanItemOf(row: string[], columns: Partial<Record<Column, number>>): FindingDraft | string {
  const cell = (field: Column) => {
    const position = columns[field];
    const value = position === undefined ? undefined : row[position]?.trim();
    return value === '' ? undefined : value;
  };
  const pluginIdText = cell('pluginId');
  const pluginId = Number(pluginIdText);
  if (pluginIdText === undefined || !/^\d+$/.test(pluginIdText) || !Number.isSafeInteger(pluginId))
    return 'the plugin id is not a whole number';
  const host = cell('host');
  const port = cell('port');
  return {
    host: {
      fqdn: cell('fqdn'),
      dnsName: cell('dnsName') ?? host,
      ip: cell('ip') ?? host,
      name: host ?? cell('netbios'),
    },
    pluginId,
    title: cell('pluginName') ?? '',
    family: cell('family'),
    priority: cell('severity') ?? '',
    cves: [cell('cve') ?? ''],
    cvss3: { score: cell('cvss3Score'), vector: cell('cvss3Vector') },
    cvss4: { score: cell('cvss4Score'), vector: cell('cvss4Vector') },
    cvss2: { score: cell('cvss2Score'), vector: cell('cvss2Vector') },
    port: port !== undefined && /^\d+$/.test(port) ? Number(port) : undefined,
    protocol: cell('protocol'),
    description: cell('description'),
    solution: cell('solution'),
    evidence: withoutLabel(cell('evidence')),
    location: [],
    scannedAt: scanDateOf(cell('scannedAt')),
  };
}

/** The data rows of a CSV export with their line numbers; NotAScanExportError when the header is not one. */
async function* dataRows(
  input: AsyncIterable<string | Buffer>,
): AsyncGenerator<{ record: string[]; line: number; columns: Partial<Record<Column, number>> }> {
  let columns: Partial<Record<Column, number>> | undefined;
  let line = 1;
  for await (const record of readCsv(utf8Text(input), {}, () => columns !== undefined)) {
    if (columns === undefined) {
      columns = columnsOf(record);
      requireColumns(columns);
      continue;
    }
    line += 1;
    // Exports pad with rows of empty cells: not findings, not errors.
    if (record.every((value) => value.trim() === '')) continue;
    yield { record, line, columns };
  }
  if (columns === undefined) throw new NotAScanExportError('it is empty: not a Tenable/Nessus CSV export');
}

/** Streams the findings of a CSV export; throws NotAScanExportError when the header is not one. */
export function parseTenableCsv(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  return mergedRecords(
    dataRows(input),
    stats,
    ({ record, line, columns }) => {
      const item = scanItemOf(record, columns);
      if (typeof item === 'string') {
        stats.skipped.push({ where: `record ${line}`, reason: item });
        return [];
      }
      noteScanTime(stats, item.scannedAt);
      return [findingOf(item, options, nessusIdentity)];
    },
    (finding) => `CSV ${finding.AssetName ?? ''} plugin ${finding.PluginId ?? ''}`,
  );
}
