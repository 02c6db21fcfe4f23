import { findingSchema } from '../../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../../functions/shared/core/severity';
import { IMPORT_LIMITS } from '../../../client/scan/input';
import { qualysPlainText } from '../../../client/scan/qualys';
import { readQualysCsv } from '../../../client/scan/qualys-csv';
import { readQualysXml, recogniseQualysXml } from '../../../client/scan/qualys-xml';
import { NotAScanExportError } from '../../../client/scan/records';
import { assetsOf, fixtureText, readText } from '../../support/scan-readers';

const REPORT = fixtureText('qualys-xml', 'Qualys_Sample_Report.xml');
const PORTS = fixtureText('qualys-xml', 'qualys_same_qid_different_ports.xml');
const EMPTY = fixtureText('qualys-xml', 'empty.xml');
const read = (text: string) => readText(readQualysXml, text, 'qualys');

const DOCTYPE = '<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://qualysguard.qualys.eu/asset_data_report.dtd">';
/** A report in the sample's shape: hosts, then the glossary. */
const report = (detections: string, glossary = details(), before = DOCTYPE) =>
  `<?xml version="1.0" encoding="UTF-8" ?>\n${before}\n<ASSET_DATA_REPORT><HEADER>` +
  `<GENERATION_DATETIME>2024-05-01T10:00:00Z</GENERATION_DATETIME></HEADER><HOST_LIST><HOST><IP>10.0.0.5</IP>` +
  `<DNS><![CDATA[web1.example.org]]></DNS><NETBIOS>WEB1</NETBIOS><VULN_INFO_LIST>${detections}</VULN_INFO_LIST>` +
  `</HOST></HOST_LIST><GLOSSARY><VULN_DETAILS_LIST>${glossary}</VULN_DETAILS_LIST></GLOSSARY></ASSET_DATA_REPORT>`;
const detection = (fields: { qid?: string; port?: string; type?: string; status?: string; extra?: string } = {}) =>
  `<VULN_INFO><QID id="qid_${fields.qid ?? '38173'}">${fields.qid ?? '38173'}</QID><TYPE>${fields.type ?? 'Vuln'}</TYPE>` +
  `<PORT>${fields.port ?? '443'}</PORT><PROTOCOL>tcp</PROTOCOL>${fields.extra ?? ''}<RESULT><![CDATA[seen]]></RESULT>` +
  `<LAST_FOUND>2024-05-01T09:00:00Z</LAST_FOUND><VULN_STATUS>${fields.status ?? 'Active'}</VULN_STATUS></VULN_INFO>`;
const details = (qid = '38173', severity = '3') =>
  `<VULN_DETAILS id="qid_${qid}"><QID id="qid_${qid}">${qid}</QID><TITLE><![CDATA[SSL Certificate - Signature Verification Failed]]></TITLE>` +
  `<SEVERITY>${severity}</SEVERITY><CATEGORY>General remote services</CATEGORY><THREAT><![CDATA[A<BR>B]]></THREAT>` +
  `<IMPACT><![CDATA[N/A]]></IMPACT><SOLUTION><![CDATA[Use a <A HREF="https://x">trusted</A> certificate.<P>]]></SOLUTION>` +
  `</VULN_DETAILS>`;

describe('the Qualys XML scan report sample (qualys-xml/Qualys_Sample_Report.xml)', () => {
  it('reads 301 detections into 301 findings on 7 assets, each valid, the scan time the earliest LAST_FOUND', async () => {
    const { findings, stats } = await read(REPORT);
    expect(stats.items).toBe(301);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({});
    expect(findings).toHaveLength(301);
    expect(assetsOf(findings)).toBe(7);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    expect(stats.scanStart?.toISOString()).toBe('2019-07-31T21:57:04.000Z');
  });

  it('maps a detection exactly: DNS name as the asset, the QID, the glossary title, level and texts', async () => {
    const { findings } = await read(REPORT);
    expect(findings[0]).toEqual({
      VulnID: findings[0]?.VulnID,
      Org: 'org1',
      AssetName: 'demo13.s02.sjc01.qualys.com',
      // LAST_FOUND 2019-07-31 + 365 days (Info).
      DueDate: '2020-07-30',
      PluginId: 6,
      PluginName: 'DNS Host Name',
      Priority: 'Info',
      IpAddress: '64.41.200.243',
      PluginFamily: 'Information gathering',
      Description:
        'The fully qualified domain name of this host, if it was obtained from a DNS server, is displayed in the RESULT section.',
      Evidence: 'IP address\tHost name\n64.41.200.243\tdemo13.s02.sjc01.qualys.com',
      Scanner: 'qualys',
    });
  });

  it('takes the glossary CVSS3 base (score and vector) and CVEs; the level 4 QID is High', async () => {
    const { findings } = await read(REPORT);
    const amd = findings.find(
      (finding) => finding.PluginId === 370876 && finding.AssetName === 'demo13.s02.sjc01.qualys.com',
    );
    expect(amd).toMatchObject({
      Priority: 'High',
      CvssScore: 9,
      CvssVector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H',
      CvssVersion: '3.0',
      PluginFamily: 'Local',
      References: [
        'https://community.amd.com/community/amd-corporate/blog/2018/03/21/initial-amd-technical-assessment-of-cts-labs-research',
      ],
      // LAST_FOUND 2021-04-19 + 30 days (High).
      DueDate: '2021-05-19',
    });
    expect(amd?.Cves).toHaveLength(7);
    expect(amd?.Description).toMatch(/^AMD processors contain the following vulnerabilities:\nCVE-2018-8936: /);
    expect(amd?.Description).toMatch(/\n\nImpact: Depending on the vulnerability being exploited/);
    const counts = findings.reduce<Record<string, number>>((all, finding) => {
      const severity = deriveSeverity(finding.Priority ?? '', finding.CvssScore);
      return { ...all, [severity]: (all[severity] ?? 0) + 1 };
    }, {});
    expect(counts).toEqual({ INFO: 217, LOW: 39, MEDIUM: 32, HIGH: 6, CRITICAL: 7 });
    expect(findings.filter((finding) => finding.KnownExploit === true)).toHaveLength(20);
    expect(findings.filter((finding) => finding.Port !== undefined)).toHaveLength(147);
  });

  it('gives stable VulnIDs, one per detection', async () => {
    const first = (await read(REPORT)).findings.map((finding) => finding.VulnID);
    expect((await read(REPORT)).findings.map((finding) => finding.VulnID)).toEqual(first);
    expect(new Set(first).size).toBe(301);
  });
});

describe('the glossary-first report (qualys-xml/qualys_same_qid_different_ports.xml)', () => {
  it('reads one QID on ports 80, 443 and 8080 as three findings on one asset', async () => {
    const { findings, stats } = await read(PORTS);
    expect(stats.items).toBe(3);
    expect(findings.map((finding) => [finding.AssetName, finding.PluginId, finding.Port, finding.Priority])).toEqual([
      ['testhost.example.com', 12345, 80, 'Medium'],
      ['testhost.example.com', 12345, 443, 'Medium'],
      ['testhost.example.com', 12345, 8080, 'Medium'],
    ]);
    expect(new Set(findings.map((finding) => finding.VulnID)).size).toBe(3);
    expect(stats.scanStart?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('reads the empty report (its DOCTYPE names the DTD by URL) as no finding', async () => {
    const { findings, stats } = await read(EMPTY);
    expect([stats.items, findings.length]).toEqual([0, 0]);
  });
});

describe('Qualys XML mapping rules', () => {
  it('leaves Fixed out, merges a repeated detection, keeps instances and virtual hosts apart', async () => {
    const { findings, stats } = await read(
      report(
        detection() +
          detection() +
          detection({ status: 'Fixed', port: '8443' }) +
          detection({ extra: '<INSTANCE>oracle1</INSTANCE>' }) +
          detection({ extra: '<FQDN>shop.example.org</FQDN>' }) +
          detection({ qid: 'x' }) +
          detection({ type: 'Ig', qid: '6' }),
      ),
    );
    expect(stats.items).toBe(7);
    expect(stats.ignored).toEqual({ fixed: 1 });
    expect(stats.skipped).toEqual([{ where: 'VULN_INFO 6', reason: 'the QID is not a whole number' }]);
    expect(findings).toHaveLength(4);
    expect(findings[0]).toMatchObject({
      AssetName: 'web1.example.org',
      IpAddress: '10.0.0.5',
      PluginName: 'SSL Certificate - Signature Verification Failed',
      Priority: 'Medium',
      Port: 443,
      Protocol: 'tcp',
      Description: 'A\nB',
      Solution: 'Use a trusted certificate.',
      Evidence: 'seen',
    });
    // A QID the glossary lacks is still a finding, named by its QID; type Ig is INFO.
    expect(findings[3]).toMatchObject({ PluginId: 6, PluginName: 'QID 6', Priority: 'Info' });
  });

  it('gives a detection the VulnID the Qualys CSV gives it (host, QID, port, protocol, instance)', async () => {
    const xml = await read(report(detection() + detection({ extra: '<INSTANCE>oracle1</INSTANCE>' })));
    const csv = await readText(
      readQualysCsv,
      [
        'IP,DNS,NetBIOS,QID,Title,Severity,Port,Protocol,Instance',
        '10.0.0.5,web1.example.org,WEB1,38173,SSL Certificate - Signature Verification Failed,3,443,tcp,',
        '10.0.0.5,web1.example.org,WEB1,38173,SSL Certificate - Signature Verification Failed,3,443,tcp,oracle1',
      ].join('\n'),
      'qualys',
    );
    expect(xml.findings.map((finding) => finding.VulnID)).toEqual(csv.findings.map((finding) => finding.VulnID));
  });

  it('turns the knowledge base HTML into text', () => {
    expect(qualysPlainText('a<P>b<BR>\nc &quot;d&quot; &amp; <A HREF="https://x">e</A><UL><LI>f</UL>')).toBe(
      'a\n\nb\nc "d" & e\nf',
    );
    expect(qualysPlainText('N/A')).toBeUndefined();
  });
});

describe('recognising and refusing Qualys XML', () => {
  it('is recognised by its <ASSET_DATA_REPORT> root past the DOCTYPE', () => {
    expect(recogniseQualysXml(REPORT.slice(0, 4096))).toBe(true);
    expect(recogniseQualysXml(PORTS.slice(0, 4096))).toBe(true);
    expect(recogniseQualysXml(fixtureText('openvas', 'many_vuln.xml').slice(0, 4096))).toBe(false);
    expect(recogniseQualysXml(fixtureText('nessus_with_cvssv3.nessus').slice(0, 4096))).toBe(false);
  });

  it('refuses another root, an internal DTD, an entity, deep nesting and a truncated report', async () => {
    await expect(read('<NessusClientData_v2/>')).rejects.toThrow(NotAScanExportError);
    const subset = '<!DOCTYPE ASSET_DATA_REPORT [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>';
    await expect(read(report(detection(), details(), subset))).rejects.toMatchObject({
      message: 'has a DOCTYPE; a Qualys report has none, and DTDs are never processed',
      kind: 'xml-dtd',
    });
    const externalWithSubset =
      '<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://q/a.dtd" [<!ENTITY x SYSTEM "file:///etc/passwd">]>';
    await expect(read(report(detection(), details(), externalWithSubset))).rejects.toMatchObject({ kind: 'xml-dtd' });
    // Another root's external DOCTYPE is refused: only Qualys's own root may name its DTD.
    await expect(
      read(report(detection(), details(), '<!DOCTYPE report SYSTEM "https://q/a.dtd">')),
    ).rejects.toMatchObject({
      kind: 'xml-dtd',
    });
    // The external DTD is never read, so it declares nothing: an entity is undeclared.
    await expect(read(report(detection({ extra: '<FQDN>&xxe;</FQDN>' })))).rejects.toThrow(/not well-formed XML/);
    const deep = `<ASSET_DATA_REPORT>${'<a>'.repeat(IMPORT_LIMITS.maxDepth)}`;
    await expect(read(deep)).rejects.toMatchObject({ kind: 'too-deep' });
    await expect(read(REPORT.slice(0, REPORT.length / 2))).rejects.toMatchObject({ kind: 'truncated' });
  });
});
