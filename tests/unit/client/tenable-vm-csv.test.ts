import { findingSchema } from '../../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../../functions/shared/core/severity';
import { readTenableVmCsv, recogniseTenableVmCsv } from '../../../client/scan/tenable-vm-csv';
import { MalformedExportError } from '../../../client/scan/records';
import { assetsOf, fixtureText, readText } from '../../support/scan-readers';

const SAMPLE = fixtureText('tenable-vm', 'nessus_new.csv');
const read = (text: string) => readText(readTenableVmCsv, text, 'nessus');

describe('the Tenable VM CSV sample (tenable-vm/nessus_new.csv)', () => {
  it('reads 99 rows into 99 findings on 99 assets, each valid, none skipped', async () => {
    const { findings, stats } = await read(SAMPLE);
    expect(stats.items).toBe(99);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({});
    expect(findings).toHaveLength(99);
    expect(assetsOf(findings)).toBe(99);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    // The earliest last_seen of the export is the scan's time.
    expect(stats.scanStart?.toISOString()).toBe('2023-06-13T11:44:51.877Z');
  });

  it('maps a row exactly: the instance severity, host names, CVSS, CWEs, references and exploit', async () => {
    const { findings } = await read(SAMPLE);
    expect(findings[0]).toEqual({
      VulnID: findings[0]?.VulnID,
      Org: 'org1',
      AssetName: 'Blah1',
      DueDate: '2024-01-08',
      PluginId: 33851,
      PluginName: 'Network daemons not managed by the package system',
      Priority: 'Low',
      CvssScore: 3.1,
      CvssVector: 'CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N',
      CvssVersion: '3.0',
      Port: 0,
      Protocol: 'tcp',
      IpAddress: '10.0.0.1',
      PluginFamily: 'Misc.',
      // definition.description's header is blank in this export: the synopsis stands in.
      Description:
        'Some daemon processes on the remote host are associated with programs that have been installed manually.',
      Solution:
        "Use packages supplied by the operating system vendor whenever possible.\n\nAnd make sure that manual software installation agrees with your organization's acceptable use and security policies.",
      Evidence: "'\nThe following running daemon is not managed by RPM :\n\n/usr/local/bin/node_exporter",
      KnownExploit: false,
      Scanner: 'nessus',
    });
    // last_seen 2023-07-10 + 180 days (Low).
    expect(findings[0]?.VulnID).toMatch(/^nessus-33851-tcp0-[0-9a-f]{24}$/);
    const withCwes = findings.find((finding) => finding.Cwes?.length === 4);
    expect(withCwes).toMatchObject({
      Cwes: ['CWE-192', 'CWE-330', 'CWE-400', 'CWE-770'],
      References: ['http://www.nessus.org/u?0ce1bb6f'],
      Cves: ['CVE-2022-21619', 'CVE-2022-21624', 'CVE-2022-21626', 'CVE-2022-21628'],
    });
    // Exploitability AVAILABLE (or exploited by malware) is a known exploit: 7 rows say so.
    expect(findings.filter((finding) => finding.KnownExploit === true)).toHaveLength(7);
  });

  it('takes the finding severity (`severity`, recast included) over the plugin default (`definition.severity`)', async () => {
    // Every row's `severity` is Low in this sample, though three plugins default to Medium or Critical.
    const { findings } = await read(SAMPLE);
    expect(new Set(findings.map((finding) => finding.Priority))).toEqual(new Set(['Low']));
    const header =
      'definition.id;definition.name;asset.host_name;severity;definition.severity;definition.cvss3.base_score';
    const rows = ['1;A;h1;;Critical;', '2;B;h1;;;9.8', '3;C;h1;High;Low;'];
    const { findings: mapped } = await read([header, ...rows].join('\n'));
    expect(
      mapped.map((finding) => [finding.Priority, deriveSeverity(finding.Priority ?? '', finding.CvssScore)]),
    ).toEqual([
      ['Critical', 'CRITICAL'],
      // No severity at all: the CVSS band decides.
      ['Unknown', 'CRITICAL'],
      ['High', 'HIGH'],
    ]);
  });

  it('gives the same VulnIDs on every read, and the VulnIDs the Nessus readers give the same host, plugin and port', async () => {
    const first = (await read(SAMPLE)).findings.map((finding) => finding.VulnID);
    const second = (await read(SAMPLE)).findings.map((finding) => finding.VulnID);
    expect(second).toEqual(first);
    expect(new Set(first).size).toBe(99);
  });

  it('merges rows of one host, plugin, port and protocol, and leaves FIXED rows out, counted', async () => {
    const header = 'definition.id;definition.name;asset.display_fqdn;port;protocol;definition.cve;state';
    const rows = [
      '10;Ten;web.example;443;TCP;CVE-2020-0001;ACTIVE',
      '10;Ten;web.example;443;TCP;CVE-2020-0002;RESURFACED',
      '10;Ten;web.example;80;TCP;;NEW',
      '11;Eleven;web.example;443;TCP;;FIXED',
    ];
    const { findings, stats } = await read([header, ...rows].join('\n'));
    expect(stats.items).toBe(4);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({ fixed: 1 });
    expect(findings.map((finding) => [finding.Port, finding.Cves])).toEqual([
      [443, ['CVE-2020-0001', 'CVE-2020-0002']],
      [80, undefined],
    ]);
  });
});

describe('recognising and refusing Tenable VM CSV', () => {
  it('is recognised by its semicolon header naming definition.id and definition.name', () => {
    expect(recogniseTenableVmCsv(SAMPLE.slice(0, 4096))).toBe(true);
    expect(recogniseTenableVmCsv(fixtureText('nessus_many_vuln.csv').slice(0, 4096))).toBe(false);
    expect(recogniseTenableVmCsv(fixtureText('openvas', 'many_vuln.csv').slice(0, 4096))).toBe(false);
  });

  it('refuses a header without an asset column, naming it', async () => {
    await expect(read('definition.id;definition.name;port\n1;A;22\n')).rejects.toThrow(
      new MalformedExportError(
        'has no "asset.display_fqdn" column: not a complete Tenable Vulnerability Management CSV header',
      ),
    );
  });

  it('refuses a file cut inside a quoted cell', async () => {
    const cut = SAMPLE.slice(0, SAMPLE.indexOf('installed manually.') + 5);
    await expect(read(cut)).rejects.toMatchObject({
      message: 'ends inside a quoted cell: the file is truncated',
      kind: 'truncated',
    });
  });
});
