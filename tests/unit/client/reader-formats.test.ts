/** The readers of Tenable VM, OpenVAS, Qualys, Inspector and Security Hub through the registry: recognised from content, read whole. */
import { readFileSync } from 'node:fs';
import { SCAN_FORMAT_READERS } from '../../../client/scan/formats';
import { detectFormat } from '../../../client/scan/read-scan';
import { readAll } from '../../support/scans';
import { fixture } from '../../support/scan-readers';

const SAMPLES = [
  { path: ['tenable-vm', 'nessus_new.csv'], format: 'tenable-vm-csv', scanner: 'nessus', findings: 99 },
  { path: ['openvas', 'many_vuln.xml'], format: 'openvas-xml', scanner: 'openvas', findings: 44 },
  { path: ['openvas', 'many_vuln.csv'], format: 'openvas-csv', scanner: 'openvas', findings: 4 },
  { path: ['qualys', 'qualys_vmdr_many_vulns_qid.csv'], format: 'qualys-csv', scanner: 'qualys', findings: 4 },
  { path: ['qualys', 'Qualys_Sample_Report.csv'], format: 'qualys-csv', scanner: 'qualys', findings: 6 },
  { path: ['qualys-xml', 'Qualys_Sample_Report.xml'], format: 'qualys-xml', scanner: 'qualys', findings: 301 },
  { path: ['qualys-xml', 'qualys_same_qid_different_ports.xml'], format: 'qualys-xml', scanner: 'qualys', findings: 3 },
  { path: ['qualys-xml', 'empty.xml'], format: 'qualys-xml', scanner: 'qualys', findings: 0 },
  { path: ['inspector2', 'aws_inspector2_many_vul.json'], format: 'inspector2', scanner: 'inspector', findings: 9 },
  { path: ['securityhub', 'inspector_ec2_cve.json'], format: 'asff', scanner: 'securityhub', findings: 2 },
  // The samples the other readers own: none of these formats claims them.
  { path: ['nessus_with_cvssv3.nessus'], format: 'nessus', scanner: 'nessus', findings: 48 },
  { path: ['nessus_many_vuln.csv'], format: 'csv', scanner: 'nessus', findings: 4 },
  { path: ['findings.json'], format: 'json', scanner: '', findings: 2 },
];

describe.each(SAMPLES)('$path', ({ path, format, scanner, findings }) => {
  it(`is recognised from its content as ${format}, and by no other format`, async () => {
    const detected = await detectFormat(fixture(...path));
    expect([detected.name, detected.scanner]).toEqual([format, scanner]);
    const start = readFileSync(fixture(...path), 'utf8').slice(0, 64 * 1024);
    expect(SCAN_FORMAT_READERS.filter((reader) => reader.recognise(start)).map((reader) => reader.name)).toEqual([
      format,
    ]);
  });

  it(`reads into ${findings} findings, every one valid for the API`, async () => {
    const { records } = await readAll(fixture(...path), {
      org: 'org1',
      scanner: scanner || 'json',
      dueDays: { CRITICAL: 15, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: 365 },
      now: new Date('2026-01-15T12:00:00Z'),
    });
    expect(records.filter((record) => !record.ok)).toEqual([]);
    expect(records).toHaveLength(findings);
  });
});
