import { findingSchema } from '../../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../../functions/shared/core/severity';
import { readOpenvasCsv, recogniseOpenvasCsv } from '../../../client/scan/openvas-csv';
import { IMPORT_LIMITS } from '../../../client/scan/input';
import { readOpenvasXml, recogniseOpenvasXml, tagsOf } from '../../../client/scan/openvas-xml';
import { MalformedExportError, NotAScanExportError } from '../../../client/scan/records';
import { assetsOf, fixtureText, readText } from '../../support/scan-readers';

const XML = fixtureText('openvas', 'many_vuln.xml');
const CSV = fixtureText('openvas', 'many_vuln.csv');
const readXml = (text: string) => readText(readOpenvasXml, text, 'openvas');
const readCsv = (text: string) => readText(readOpenvasCsv, text, 'openvas');

/** A one-result report in the sample's shape. */
const report = (results: string, before = '') =>
  `<?xml version="1.0"?>${before}<report id="r"><report id="i"><scan_start>2024-05-01T10:00:00Z</scan_start><results>${results}</results></report></report>`;
const result = (fields: {
  host?: string;
  hostname?: string;
  port?: string;
  oid?: string;
  threat?: string;
  severity?: string;
}) =>
  `<result id="x"><host>${fields.host ?? '10.0.0.5'}<asset/><hostname>${fields.hostname ?? ''}</hostname></host>` +
  `<port>${fields.port ?? '443/tcp'}</port><nvt oid="${fields.oid ?? '1.3.6.1.4.1.25623.1.0.1'}"><name>N</name>` +
  `<tags>summary=S|solution=Fix it|cvss_base_vector=AV:N/AC:L/Au:N/C:P/I:N/A:N</tags><refs><ref id="CVE-2020-1234" type="cve"/>` +
  `<ref id="https://example.org/a" type="url"/><ref id="79" type="cwe"/></refs></nvt>` +
  `<threat>${fields.threat ?? 'Medium'}</threat><severity>${fields.severity ?? '5.0'}</severity><description>E</description>` +
  `<detection><result id="d"><details><detail><name>product</name></detail></details></result></detection></result>`;

describe('the OpenVAS XML sample (openvas/many_vuln.xml)', () => {
  it('reads 44 results into 44 findings on 1 asset, each valid', async () => {
    const { findings, stats } = await readXml(XML);
    expect(stats.items).toBe(44);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({});
    expect(findings).toHaveLength(44);
    expect(assetsOf(findings)).toBe(1);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    expect(stats.scanStart?.toISOString()).toBe('2023-09-26T10:50:34.000Z');
  });

  it('maps a result exactly: hostname as the asset, OID as RuleId, threat as Priority, refs', async () => {
    const { findings } = await readXml(XML);
    expect(findings[0]).toEqual({
      VulnID: findings[0]?.VulnID,
      Org: 'org1',
      AssetName: 'b6b9f466d63',
      // scan_start 2023-09-26 + 30 days (High).
      DueDate: '2023-10-26',
      RuleId: '1.3.6.1.4.1.25623.1.0.100111',
      PluginName: 'The rexec service is running',
      Priority: 'High',
      Cves: ['CVE-1999-0618'],
      CvssScore: 10,
      Port: 512,
      Protocol: 'tcp',
      PluginFamily: 'Useless services',
      Description: 'This remote host is running a rexec service.',
      Solution: 'Disable the rexec service\nand use alternatives like SSH\ninstead.',
      Evidence: 'The rexec service was detected on the target system.',
      Scanner: 'openvas',
    });
    // 192.168.1.1001 (as the sample writes it) is no IP address: no IpAddress.
    expect(findings.some((finding) => finding.IpAddress !== undefined)).toBe(false);
    expect(findings[2]?.References).toHaveLength(4);
  });

  it('maps the threat levels, and an empty threat to the CVSS band', async () => {
    const { findings } = await readXml(XML);
    const counts = (values: string[]) =>
      values.reduce<Record<string, number>>((all, value) => ({ ...all, [value]: (all[value] ?? 0) + 1 }), {});
    expect(counts(findings.map((finding) => finding.Priority ?? ''))).toEqual({ High: 19, Medium: 23, Unknown: 2 });
    expect(counts(findings.map((finding) => deriveSeverity(finding.Priority ?? '', finding.CvssScore)))).toEqual({
      HIGH: 19,
      MEDIUM: 25,
    });
    const { findings: levels, stats } = await readXml(
      report(
        ['Critical', 'Log', 'Debug', 'Low', 'False Positive', 'Error']
          .map((threat, index) => result({ threat, oid: `1.3.6.1.4.1.25623.1.0.${index}` }))
          .join(''),
      ),
    );
    expect(levels.map((finding) => finding.Priority)).toEqual(['Critical', 'Info', 'Info', 'Low']);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({ 'false positives': 1, 'scan errors': 1 });
  });

  it('reads vectors, CWEs and the nested detection result of a newer report without taking it for a result', async () => {
    const { findings, stats } = await readXml(report(result({})));
    expect(stats.items).toBe(1);
    expect(findings[0]).toMatchObject({
      IpAddress: '10.0.0.5',
      AssetName: '10.0.0.5',
      CvssScore: 5,
      CvssVector: 'AV:N/AC:L/Au:N/C:P/I:N/A:N',
      CvssVersion: '2.0',
      Cwes: ['CWE-79'],
      References: ['https://example.org/a'],
      Solution: 'Fix it',
      DueDate: '2024-07-30',
    });
  });

  it('gives stable VulnIDs, distinct per host, OID and port; the same result twice is one finding', async () => {
    const first = (await readXml(XML)).findings.map((finding) => finding.VulnID);
    expect((await readXml(XML)).findings.map((finding) => finding.VulnID)).toEqual(first);
    expect(new Set(first).size).toBe(44);
    const { findings, stats } = await readXml(
      report(
        result({}) +
          result({}) +
          result({ port: '80/tcp' }) +
          result({ host: '10.0.0.6' }) +
          result({ oid: '1.3.6.1.4.1.25623.1.0.2' }),
      ),
    );
    expect(stats.items).toBe(5);
    expect(findings).toHaveLength(4);
  });
});

describe('the OpenVAS CSV sample (openvas/many_vuln.csv)', () => {
  it('reads 4 rows into 4 findings on 1 asset, each valid', async () => {
    const { findings, stats } = await readCsv(CSV);
    expect(stats.items).toBe(4);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({});
    expect(findings).toHaveLength(4);
    expect(assetsOf(findings)).toBe(1);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    expect(stats.scanStart?.toISOString()).toBe('2021-05-26T20:50:18.000Z');
  });

  it('maps a row exactly', async () => {
    const { findings } = await readCsv(CSV);
    expect(findings.map((finding) => [finding.Priority, finding.CvssScore, finding.Port, finding.RuleId])).toEqual([
      ['Low', 2.6, undefined, '1.3.6.1.4.1.25623.1.0.80091'],
      ['Medium', 4, 9200, '1.3.6.1.4.1.25623.1.0.106223'],
      ['Medium', 4.3, 9200, '1.3.6.1.4.1.25623.1.0.117274'],
      ['High', 9, 9200, '1.3.6.1.4.1.25623.1.0.103240'],
    ]);
    expect(findings[2]).toMatchObject({
      AssetName: 'LOGSRV',
      IpAddress: '192.168.118.212',
      PluginName: 'SSL/TLS: Deprecated TLSv1.0 and TLSv1.1 Protocol Detection',
      Cves: ['CVE-2011-3389', 'CVE-2015-0204'],
      Protocol: 'tcp',
      Evidence: expect.stringMatching(/^In addition to TLSv1\.2\+ the service/),
      // Timestamp 2021-05-26 + 90 days (Medium).
      DueDate: '2021-08-24',
      Scanner: 'openvas',
    });
  });

  it('gives a result the same VulnID in the CSV and in the XML report', async () => {
    const header = 'IP,Hostname,Port,Port Protocol,CVSS,Severity,NVT Name,NVT OID,Timestamp';
    const rows = [
      '10.0.0.5,,443,tcp,5.0,Medium,N,1.3.6.1.4.1.25623.1.0.1,2024-05-01T10:00:00Z',
      '10.0.0.5,,,,5.0,Medium,N,1.3.6.1.4.1.25623.1.0.2,2024-05-01T10:00:00Z',
    ];
    const csv = await readCsv([header, ...rows].join('\n'));
    const xml = await readXml(report(result({}) + result({ port: 'general/tcp', oid: '1.3.6.1.4.1.25623.1.0.2' })));
    expect(csv.findings.map((finding) => finding.VulnID)).toEqual(xml.findings.map((finding) => finding.VulnID));
  });
});

describe('recognising and refusing OpenVAS reports', () => {
  it('recognises the XML by its <report> root and the CSV by its NVT columns', () => {
    expect(recogniseOpenvasXml(XML.slice(0, 4096))).toBe(true);
    expect(recogniseOpenvasXml('<?xml version="1.0"?>\n<!-- x --><report id="1">')).toBe(true);
    expect(recogniseOpenvasXml(fixtureText('nessus_with_cvssv3.nessus').slice(0, 4096))).toBe(false);
    expect(recogniseOpenvasCsv(CSV.slice(0, 4096))).toBe(true);
    expect(recogniseOpenvasCsv(fixtureText('nessus_many_vuln.csv').slice(0, 4096))).toBe(false);
    expect(recogniseOpenvasCsv(XML.slice(0, 4096))).toBe(false);
  });

  it('refuses another XML root, a DOCTYPE, an undeclared entity, deep nesting and a truncated report', async () => {
    await expect(readXml('<NessusClientData_v2/>')).rejects.toThrow(NotAScanExportError);
    const dtd = '<!DOCTYPE report [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>';
    await expect(readXml(report(result({}), dtd))).rejects.toMatchObject({
      message: 'has a DOCTYPE; an OpenVAS report has none, and DTDs are never processed',
      kind: 'xml-dtd',
    });
    await expect(readXml(report(result({ hostname: '&xxe;' })))).rejects.toThrow(/not well-formed XML/);
    const deep = `<report>${'<a>'.repeat(IMPORT_LIMITS.maxDepth)}`;
    await expect(readXml(deep)).rejects.toMatchObject({ kind: 'too-deep' });
    await expect(readXml(XML.slice(0, XML.length / 2))).rejects.toMatchObject({ kind: 'truncated' });
  });

  it('refuses a CSV without the NVT OID column, naming it, and one cut inside a quoted cell', async () => {
    await expect(readCsv('IP,Hostname,NVT Name\n10.0.0.1,h,N\n')).rejects.toThrow(
      new MalformedExportError('has no "NVT OID" column: not a complete OpenVAS CSV header'),
    );
    await expect(readCsv(CSV.slice(0, CSV.indexOf('Packet 1')))).rejects.toMatchObject({ kind: 'truncated' });
  });

  it('splits the NVT tags on the pipes that start a key', () => {
    expect(tagsOf('summary=a | b|insight=c\n  d|affected=')).toEqual(
      new Map([
        ['summary', 'a | b'],
        ['insight', 'c\nd'],
        ['affected', ''],
      ]),
    );
  });
});
