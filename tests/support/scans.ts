/** The scan export fixtures (tests/fixtures/scans, licence notice beside them) and ways to read them. */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { DEFAULT_DUE_DAYS, type MappingOptions } from '../../client/scan/mapping';
import { readScanFile, type ValidatedRecord } from '../../client/scan/read-scan';
import { newParseStats, type ParseStats, type ScanFormat } from '../../client/scan/records';

export const SCANS_DIR = join(__dirname, '..', 'fixtures', 'scans');
export const NESSUS_SAMPLE = join(SCANS_DIR, 'nessus_with_cvssv3.nessus');
export const CSV_SAMPLE = join(SCANS_DIR, 'nessus_many_vuln.csv');
export const JSON_SAMPLE = join(SCANS_DIR, 'findings.json');
export const TRIVY_SAMPLES = {
  schema2: join(SCANS_DIR, 'trivy', 'scheme_2_many_vulns.json'),
  legacy: join(SCANS_DIR, 'trivy', 'legacy_many_vulns.json'),
};
export const GRYPE_SAMPLE = join(SCANS_DIR, 'grype', 'many_vulns.json');
export const OSV_SAMPLE = join(SCANS_DIR, 'osv', 'some_findings.json');

/**
 * The real exports of each format (tests/fixtures/scans, from DefectDojo's parser tests), for the tests
 * that run over every registered format with a sample: add a format's samples here and they join.
 */
export const FORMAT_SAMPLES: Partial<Record<ScanFormat, string[]>> = {
  nessus: [NESSUS_SAMPLE],
  csv: [CSV_SAMPLE],
  json: [JSON_SAMPLE],
  trivy: [TRIVY_SAMPLES.schema2, TRIVY_SAMPLES.legacy],
  grype: [GRYPE_SAMPLE],
  osv: [OSV_SAMPLE],
  'tenable-vm-csv': [join(SCANS_DIR, 'tenable-vm', 'nessus_new.csv')],
  'openvas-xml': [join(SCANS_DIR, 'openvas', 'many_vuln.xml')],
  'openvas-csv': [join(SCANS_DIR, 'openvas', 'many_vuln.csv')],
  'qualys-csv': [
    join(SCANS_DIR, 'qualys', 'qualys_vmdr_many_vulns_qid.csv'),
    join(SCANS_DIR, 'qualys', 'Qualys_Sample_Report.csv'),
  ],
  'qualys-xml': [
    join(SCANS_DIR, 'qualys-xml', 'Qualys_Sample_Report.xml'),
    join(SCANS_DIR, 'qualys-xml', 'qualys_same_qid_different_ports.xml'),
  ],
  inspector2: [join(SCANS_DIR, 'inspector2', 'aws_inspector2_many_vul.json')],
  asff: [join(SCANS_DIR, 'securityhub', 'inspector_ec2_cve.json')],
};

export const MAPPING: MappingOptions = {
  org: 'org1',
  scanner: 'nessus',
  dueDays: DEFAULT_DUE_DAYS,
  now: new Date('2026-01-15T12:00:00Z'),
};

/** The mapping a format's push uses: its own scanner, as `npm run push` picks it. */
export const mappingFor = (scanner: string): MappingOptions => ({ ...MAPPING, scanner });

/** Every record of a file, validated, with the parser's counts. */
export async function readAll(
  path: string,
  mapping: MappingOptions = MAPPING,
): Promise<{ records: ValidatedRecord[]; stats: ParseStats }> {
  const stats = newParseStats();
  const records: ValidatedRecord[] = [];
  for await (const record of readScanFile(path, mapping, stats)) records.push(record);
  return { records, stats };
}

/** Text as a stream of small chunks, so parsers meet element and cell boundaries mid-chunk. */
export const chunked = (text: string, size = 7) =>
  Readable.from(Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size)));
