/**
 * Tenable Vulnerability Management (Tenable.io) CSV exports: semicolon-separated, one finding a row,
 * dotted column names (`asset.display_fqdn`, `definition.id`, `definition.cve`). The scan engine is
 * Nessus and `definition.id` its plugin id, so a finding is mapped as the other Tenable exports are
 * (`nessusIdentity`, scanner `nessus`, the same VulnID for the same host, plugin, port and protocol) plus
 * what this export adds: CWEs, references, whether an exploit is known, the EPSS score.
 * Rows in state FIXED are left out and counted: Tenable says the vulnerability is gone.
 */
import { csvRows, startHasHeader, type CsvRow } from './csv-table';
import { findingOf, LeftOut, nessusIdentity, type FindingDraft } from './draft';
import type { MappingOptions } from './mapping';
import { mergedRecords } from './spool';
import { noteIgnored, noteScanTime, type ParseStats, type ScanRecord } from './records';

export const TENABLE_VM_COLUMNS = {
  pluginId: ['definition.id'],
  pluginName: ['definition.name'],
  /** Only checked to be there: the export names its host somehow. */
  anyAsset: [
    'asset.display_fqdn',
    'asset.host_name',
    'asset.display_ipv4_address',
    'asset.display_ipv6_address',
    'asset.name',
  ],
  family: ['definition.family'],
  severity: ['severity'],
  pluginSeverity: ['definition.severity'],
  fqdn: ['asset.display_fqdn'],
  hostName: ['asset.host_name'],
  ipv4: ['asset.display_ipv4_address', 'asset.ipv4_addresses'],
  ipv6: ['asset.display_ipv6_address', 'asset.ipv6_addresses'],
  name: ['asset.name', 'asset.netbios_name'],
  port: ['port'],
  protocol: ['protocol'],
  cve: ['definition.cve'],
  cvss3Score: ['definition.cvss3.base_score'],
  cvss3Vector: ['definition.cvss3.base_vector'],
  cvss4Score: ['definition.cvss4.base_score'],
  cvss4Vector: ['definition.cvss4.base_vector'],
  cvss2Score: ['definition.cvss2.base_score'],
  cvss2Vector: ['definition.cvss2.base_vector'],
  description: ['definition.description', 'definition.synopsis'],
  solution: ['definition.solution'],
  evidence: ['output'],
  lastSeen: ['last_seen'],
  cwe: ['definition.cwe'],
  seeAlso: ['definition.see_also'],
  epss: ['definition.epss.score'],
  exploitability: ['definition.exploitability_ease'],
  exploitedByMalware: ['definition.exploited_by_malware'],
  state: ['state'],
} as const;
type Field = keyof typeof TENABLE_VM_COLUMNS;

const SPEC = {
  format: 'Tenable Vulnerability Management CSV',
  delimiter: ';',
  columns: TENABLE_VM_COLUMNS,
  required: ['pluginId', 'pluginName', 'anyAsset'] as const,
};

/** A semicolon-separated header naming `definition.id` and `definition.name`. */
export const recogniseTenableVmCsv = (start: string) =>
  startHasHeader(start, ';', ['definition.id', 'definition.name']);

const firstOf = (value: string | undefined) => value?.split(/[,\s]+/)[0] || undefined;

/** AVAILABLE (Tenable: "Exploits are available") or exploited by malware: known; a stated other value: not. */
function knownExploitOf(row: CsvRow<Field>): boolean | undefined {
  const ease = row.cell('exploitability')?.toUpperCase();
  const malware = row.cell('exploitedByMalware')?.toUpperCase();
  if (ease === undefined && malware === undefined) return undefined;
  return ease === 'AVAILABLE' || malware === 'TRUE';
}

function scanItemOf(row: CsvRow<Field>): FindingDraft | LeftOut | string {
  const pluginIdText = row.cell('pluginId');
  const pluginId = Number(pluginIdText);
  if (pluginIdText === undefined || !/^\d+$/.test(pluginIdText) || !Number.isSafeInteger(pluginId))
    return 'definition.id is not a whole number';
  // State FIXED: Tenable saw it remediated.
  if (row.cell('state')?.toUpperCase() === 'FIXED') return new LeftOut('fixed');
  const lastSeen = Date.parse(row.cell('lastSeen') ?? '');
  const port = row.cell('port');
  return {
    host: {
      fqdn: row.cell('fqdn'),
      dnsName: row.cell('hostName'),
      ip: firstOf(row.cell('ipv4')) ?? firstOf(row.cell('ipv6')),
      name: row.cell('name'),
    },
    pluginId,
    title: row.cell('pluginName') ?? '',
    family: row.cell('family'),
    // The finding's own severity (a recast included), else the plugin's default.
    priority: row.cell('severity') ?? row.cell('pluginSeverity') ?? '',
    cves: [row.cell('cve') ?? ''],
    cvss3: { score: row.cell('cvss3Score'), vector: row.cell('cvss3Vector') },
    cvss4: { score: row.cell('cvss4Score'), vector: row.cell('cvss4Vector') },
    cvss2: { score: row.cell('cvss2Score'), vector: row.cell('cvss2Vector') },
    port: port !== undefined && /^\d+$/.test(port) ? Number(port) : undefined,
    protocol: row.cell('protocol'),
    description: row.cell('description'),
    solution: row.cell('solution'),
    evidence: row.cell('evidence'),
    cwes: [row.cell('cwe') ?? ''],
    references: [row.cell('seeAlso') ?? ''],
    epssScore: Number(row.cell('epss') ?? NaN),
    knownExploit: knownExploitOf(row),
    location: [],
    scannedAt: Number.isFinite(lastSeen) ? new Date(lastSeen) : undefined,
  };
}

/** Streams the findings of a Tenable VM CSV export; rows of one host, plugin, port and protocol merge. */
export function readTenableVmCsv(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  return mergedRecords(
    csvRows(input, SPEC),
    stats,
    (row) => {
      const item = scanItemOf(row);
      if (typeof item === 'string') stats.skipped.push({ where: `record ${row.record}`, reason: item });
      else if (item instanceof LeftOut) noteIgnored(stats, item.kind);
      else {
        noteScanTime(stats, item.scannedAt);
        return [findingOf(item, options, nessusIdentity)];
      }
      return [];
    },
    (finding) => `Tenable VM CSV ${finding.AssetName ?? ''} plugin ${finding.PluginId ?? ''}`,
  );
}
