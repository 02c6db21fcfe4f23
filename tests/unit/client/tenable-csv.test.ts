import type { Finding } from '../../../functions/shared/core/finding-schema';
import { columnsOf, parseTenableCsv } from '../../../client/scan/tenable-csv';
import {
  MalformedExportError,
  NotAScanExportError,
  newParseStats,
  type ParseStats,
} from '../../../client/scan/records';
import { CSV_SAMPLE, MAPPING, chunked, readAll } from '../../support/scans';

const parseText = async (csv: string, stats: ParseStats = newParseStats()) => {
  const findings: Partial<Finding>[] = [];
  for await (const record of parseTenableCsv(chunked(csv), MAPPING, stats)) findings.push(record.finding);
  return findings;
};

describe('the Tenable CSV sample', () => {
  it('reads its 4 findings and skips the rows of empty cells', async () => {
    const { records, stats } = await readAll(CSV_SAMPLE);
    expect(stats.items).toBe(4);
    expect(stats.skipped).toEqual([]);
    expect(records.every((record) => record.ok)).toBe(true);
    const findings = records.map((record) => record.finding as Finding);
    expect(findings.map((finding) => [finding.AssetName, finding.PluginId])).toEqual([
      ['10.1.1.1', 35291],
      ['10.1.1.1', 51192],
      ['10.2.1.1', 57582],
      ['10.2.1.1', 65821],
    ]);
    expect(findings[3]).toMatchObject({
      Cves: ['CVE-2013-2566', 'CVE-2015-2808'],
      CvssScore: 5.9,
      CvssVector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N/E:U/RL:X/RC:C',
      CvssVersion: '3.0',
      Port: 443,
      Protocol: 'tcp',
      IpAddress: '10.2.1.1',
      PluginFamily: 'General',
      Priority: 'Medium',
      Scanner: 'nessus',
    });
    // Quoted multi-line cells arrive whole; Tenable.sc's "Plugin Output:" label is dropped.
    expect(findings[0]?.Evidence).toBe(
      'The following certificates were part of the certificate chain sent by\nthe remote host, but contain hashes that are considered to be weak.',
    );
    expect(findings[0]?.Description?.split('\n').length).toBeGreaterThan(3);
    // Last Observed "Jan 5, 2021" + 90 days for Medium.
    expect(findings[0]?.DueDate).toBe('2021-04-05');
    // No v3 score on this row: the v2 score and vector.
    expect(findings[2]).toMatchObject({ CvssScore: 6.4 });
  });
});

describe('parseTenableCsv', () => {
  const NESSUS_HEADER =
    'Plugin ID,CVE,CVSS v2.0 Base Score,Risk,Host,Protocol,Port,Name,Synopsis,Description,Solution,See Also,Plugin Output';

  it('matches columns by name in any order and spelling', () => {
    expect(columnsOf(NESSUS_HEADER.split(','))).toMatchObject({
      pluginId: 0,
      cve: 1,
      cvss2Score: 2,
      severity: 3,
      host: 4,
      protocol: 5,
      port: 6,
      pluginName: 7,
      description: 9,
      solution: 10,
      evidence: 12,
    });
    expect(columnsOf(['name', 'PLUGIN_ID', 'ip address', 'Risk Factor'])).toMatchObject({
      pluginName: 0,
      pluginId: 1,
      ip: 2,
      severity: 3,
    });
  });

  it('merges the rows of one host, plugin, port and protocol that list different CVEs', async () => {
    const csv = [
      NESSUS_HEADER,
      '97833,CVE-2017-0143,9.3,Critical,10.0.0.5,tcp,445,MS17-010,s,d,Patch.,,"out 1"',
      '97833,CVE-2017-0144,9.3,Critical,10.0.0.5,tcp,445,MS17-010,s,d,Patch.,,"out 1"',
      '97833,CVE-2017-0145,9.3,Critical,10.0.0.6,tcp,445,MS17-010,s,d,Patch.,,"out 2"',
      '97833,CVE-2017-0146,9.3,Critical,10.0.0.5,tcp,445,MS17-010,s,d,Patch.,,"out 1"',
    ].join('\r\n');
    const stats = newParseStats();
    const findings = await parseText(csv, stats);
    expect(stats.items).toBe(4);
    expect(findings).toHaveLength(2);
    expect(findings[0]).toMatchObject({
      AssetName: '10.0.0.5',
      Cves: ['CVE-2017-0143', 'CVE-2017-0144', 'CVE-2017-0146'],
      Priority: 'Critical',
      CvssScore: 9.3,
      Evidence: 'out 1',
    });
    expect(findings[1]).toMatchObject({ AssetName: '10.0.0.6', Cves: ['CVE-2017-0145'] });
    expect(findings[0]?.VulnID).not.toBe(findings[1]?.VulnID);
  });

  it('reads quoted cells over several lines, with commas and quotes inside', async () => {
    const csv = `${NESSUS_HEADER}\n1,,,Low,h1,udp,161,"SNMP, ""public""",s,"line one\nline two, with comma",fix,,\n`;
    const findings = await parseText(csv);
    expect(findings[0]).toMatchObject({
      PluginName: 'SNMP, "public"',
      Description: 'line one\nline two, with comma',
      Protocol: 'udp',
      Port: 161,
      Priority: 'Low',
    });
  });

  it('names a row it cannot read and goes on', async () => {
    const stats = newParseStats();
    const findings = await parseText(
      `${NESSUS_HEADER}\nnot-a-number,,,Low,h1,tcp,1,N,s,d,f,,\n2,,,Low,h1,tcp,1,N,s,d,f,,\n`,
      stats,
    );
    expect(findings).toHaveLength(1);
    expect(stats.skipped).toEqual([{ where: 'record 2', reason: 'the plugin id is not a whole number' }]);
  });

  it('says a CSV without the plugin and host columns is not a scan export', async () => {
    await expect(parseText('a,b,c\n1,2,3\n')).rejects.toThrow(NotAScanExportError);
    await expect(parseText('Plugin ID,Name\n1,x\n')).rejects.toThrow(
      'its header has no Host (or IP Address, DNS Name, FQDN) column',
    );
  });

  it('says a broken CSV after a good header is malformed', async () => {
    await expect(parseText(`${NESSUS_HEADER}\n1,"unterminated\n`)).rejects.toThrow(MalformedExportError);
  });
});
