import { findingSchema } from '../../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../../functions/shared/core/severity';
import { readQualysCsv, recogniseQualysCsv } from '../../../client/scan/qualys-csv';
import { qualysDateOf, qualysPriorityOf, scoreAndVectorOf } from '../../../client/scan/qualys';
import { MalformedExportError } from '../../../client/scan/records';
import { assetsOf, fixtureText, readText } from '../../support/scan-readers';

const VMDR = fixtureText('qualys', 'qualys_vmdr_many_vulns_qid.csv');
const REPORT = fixtureText('qualys', 'Qualys_Sample_Report.csv');
const read = (text: string) => readText(readQualysCsv, text, 'qualys');

describe('the Qualys VMDR sample (qualys/qualys_vmdr_many_vulns_qid.csv)', () => {
  it('reads past the three report lines: 5 rows, 4 findings on 4 assets, the FIXED one left out', async () => {
    const { findings, stats } = await read(VMDR);
    expect(stats.items).toBe(5);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({ fixed: 1 });
    expect(findings).toHaveLength(4);
    expect(assetsOf(findings)).toBe(4);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    expect(stats.scanStart?.toISOString()).toBe('2026-02-03T07:00:00.000Z');
  });

  it('maps the five levels, the QID as PluginId, and RTI "Active Exploit" as a known exploit', async () => {
    const { findings } = await read(VMDR);
    expect(findings.map((finding) => [finding.PluginId, finding.Priority, finding.KnownExploit])).toEqual([
      [100001, 'Info', false],
      [100002, 'Low', false],
      [100004, 'High', false],
      [100005, 'Critical', true],
    ]);
    expect(findings[0]).toEqual({
      VulnID: findings[0]?.VulnID,
      Org: 'org1',
      AssetName: 'WEBSERVER01',
      // Last Detected Feb 03, 2026 + 365 days (Info).
      DueDate: '2027-02-03',
      PluginId: 100001,
      PluginName: 'Information Disclosure Vulnerability',
      Priority: 'Info',
      Port: 80,
      Protocol: 'tcp',
      IpAddress: '10.0.0.10',
      PluginFamily: 'Web Server',
      Description: 'May disclose server information.',
      Solution: 'Review information disclosure.',
      Evidence: 'Server header exposed',
      KnownExploit: false,
      Scanner: 'qualys',
    });
    // An IPv6-only asset: its address is the IpAddress.
    expect(findings[3]).toMatchObject({ AssetName: 'DBSERVER01', IpAddress: '2001:db8::1', Port: 445 });
  });
});

describe('the Qualys scan report sample (qualys/Qualys_Sample_Report.csv)', () => {
  it('reads 6 rows into 6 findings on 4 assets', async () => {
    const { findings, stats } = await read(REPORT);
    expect(stats.items).toBe(6);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({});
    expect(findings).toHaveLength(6);
    expect(assetsOf(findings)).toBe(4);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    expect(stats.scanStart?.toISOString()).toBe('2021-05-25T07:36:58.000Z');
  });

  it('maps the DNS name as the asset, CVSS3 Base as the score and vector, CVE ID as CVEs', async () => {
    const { findings } = await read(REPORT);
    expect(findings[2]).toMatchObject({
      AssetName: 'ip-10-98-57-180.eu-west-1.compute.internal',
      IpAddress: '10.98.57.180',
      PluginId: 91762,
      PluginName: 'Microsoft Windows Security Update for May 2021',
      Priority: 'Critical',
      CvssScore: 9.9,
      CvssVector: 'CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H',
      CvssVersion: '3.0',
      PluginFamily: 'Windows',
      // 05/25/2021 07:36:58 + 15 days (Critical).
      DueDate: '2021-06-09',
    });
    expect(findings[2]?.Cves).toHaveLength(23);
    expect(findings[2]?.Description).toMatch(/\n\nImpact: A remote attacker could exploit/);
    expect(findings.every((finding) => finding.Port === undefined && finding.KnownExploit === false)).toBe(true);
  });

  it('gives stable VulnIDs; the same QID on two hosts is two findings', async () => {
    const first = (await read(REPORT)).findings;
    expect((await read(REPORT)).findings.map((finding) => finding.VulnID)).toEqual(first.map((f) => f.VulnID));
    expect(new Set(first.map((finding) => finding.VulnID)).size).toBe(6);
    expect(first.filter((finding) => finding.PluginId === 105971)).toHaveLength(4);
  });
});

describe('Qualys mapping rules', () => {
  it('maps levels 1–5, information-gathered QIDs to INFO, and other severities to the CVSS band', async () => {
    expect([1, 2, 3, 4, 5].map((level) => qualysPriorityOf(String(level), 'Confirmed'))).toEqual([
      'Info',
      'Low',
      'Medium',
      'High',
      'Critical',
    ]);
    expect(qualysPriorityOf('5', 'Ig')).toBe('Info');
    expect(qualysPriorityOf('4', 'Info')).toBe('Info');
    const header = 'QID,Title,Severity,IP,Port,Protocol,CVSS3 Base,Instance';
    const { findings } = await read(
      [
        header,
        '1,A,,10.0.0.1,443,TCP,7.5 (AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N),',
        '1,A,3,10.0.0.1,443,TCP,,oracle1',
        '1,A,3,10.0.0.1,443,TCP,,oracle1',
        'x,B,3,10.0.0.1,,,,',
      ].join('\n'),
    );
    expect(findings.map((finding) => deriveSeverity(finding.Priority ?? '', finding.CvssScore))).toEqual([
      'HIGH',
      'MEDIUM',
    ]);
  });

  it('counts duplicates and bad QIDs: the same QID, port and instance on a host is one finding', async () => {
    const header = 'QID,Title,Severity,IP,Port,Protocol,Instance';
    const { findings, stats } = await read(
      [
        header,
        '1,A,3,10.0.0.1,443,TCP,',
        '1,A,3,10.0.0.1,443,TCP,',
        '1,A,3,10.0.0.1,443,TCP,db2',
        'x,B,3,10.0.0.1,,,',
      ].join('\n'),
    );
    expect(stats.items).toBe(4);
    expect(findings).toHaveLength(2);
    expect(stats.skipped).toEqual([{ where: 'record 5', reason: 'the QID is not a whole number' }]);
  });

  it('reads both date forms as UTC, and score (vector) cells', () => {
    expect(qualysDateOf('05/25/2021 07:36:58')?.toISOString()).toBe('2021-05-25T07:36:58.000Z');
    expect(qualysDateOf('Feb 03, 2026 07:00 PM')?.toISOString()).toBe('2026-02-03T19:00:00.000Z');
    expect(qualysDateOf('Feb 03, 2026 12:10 AM')?.toISOString()).toBe('2026-02-03T00:10:00.000Z');
    expect(qualysDateOf('02/30/2021')).toBeUndefined();
    expect(qualysDateOf("'-")).toBeUndefined();
    expect(scoreAndVectorOf('8.1 (AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H)')).toEqual({
      score: '8.1',
      vector: 'AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H',
    });
    expect(scoreAndVectorOf("'-")).toEqual({});
  });
});

describe('recognising and refusing Qualys CSV', () => {
  it('is recognised by a QID, Title and Severity header within its first lines', () => {
    expect(recogniseQualysCsv(VMDR.slice(0, 4096))).toBe(true);
    expect(recogniseQualysCsv(REPORT.slice(0, 4096))).toBe(true);
    expect(recogniseQualysCsv(fixtureText('nessus_many_vuln.csv').slice(0, 4096))).toBe(false);
    expect(recogniseQualysCsv(fixtureText('openvas', 'many_vuln.csv').slice(0, 4096))).toBe(false);
  });

  it('refuses a table without a Severity column, naming it', async () => {
    const withoutSeverity = VMDR.replace('"QID","Title","Severity"', '"QID","Title","Level"');
    await expect(read(withoutSeverity)).rejects.toThrow(
      new MalformedExportError('has no "Severity" column: not a complete Qualys CSV header'),
    );
  });

  it('refuses a file cut inside a quoted cell', async () => {
    await expect(read(REPORT.slice(0, REPORT.indexOf('QID Detection Logic')))).rejects.toMatchObject({
      kind: 'truncated',
    });
  });
});
