import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../../functions/shared/core/finding-schema';
import { TRUNCATION_MARKER } from '../../../client/scan/mapping';
import { parseNessus } from '../../../client/scan/nessus';
import {
  MalformedExportError,
  NotAScanExportError,
  newParseStats,
  type ScanRecord,
} from '../../../client/scan/records';
import { writeSyntheticNessus } from '../../../client/scan/synthetic-nessus';
import { MAPPING, NESSUS_SAMPLE, SCANS_DIR, chunked, readAll } from '../../support/scans';

const parseText = async (xml: string) => {
  const records: ScanRecord[] = [];
  for await (const record of parseNessus(chunked(xml), MAPPING, newParseStats())) records.push(record);
  return records.map((record) => record.finding);
};

const host = (name: string, items: string, properties = '') =>
  `<ReportHost name="${name}"><HostProperties>${properties}</HostProperties>${items}</ReportHost>`;
const item = (attributes: string, children = '') => `<ReportItem ${attributes}>${children}</ReportItem>`;
const nessus = (hosts: string) =>
  `<?xml version="1.0"?><NessusClientData_v2><Report name="t">${hosts}</Report></NessusClientData_v2>`;

describe('the Nessus sample (1 host, 49 ReportItems)', () => {
  let findings: Finding[];
  let items: number;
  beforeAll(async () => {
    const { records, stats } = await readAll(NESSUS_SAMPLE);
    expect(records.every((record) => record.ok)).toBe(true);
    findings = records.map((record) => record.finding as Finding);
    items = stats.items;
  });

  it('reads 49 items as 48 distinct findings: the two ReportItems of plugin 58987 on tcp/80 are one', () => {
    expect(items).toBe(49);
    expect(findings).toHaveLength(48);
    expect(new Set(findings.map((finding) => finding.VulnID)).size).toBe(48);
    const merged = findings.filter((finding) => finding.PluginId === 58987);
    expect(merged).toHaveLength(1);
    // Both items' plugin outputs are kept.
    expect(merged[0]?.Evidence).toContain('Source : X-Powered-By: PHP/5.6.40');
    expect(merged[0]?.Evidence).toContain('Source : http://testphp.vulnweb.com/secured/phpinfo.php');
  });

  it('names the asset by its FQDN, keeps its IP, and stamps the scanner', () => {
    for (const finding of findings) {
      expect(finding).toMatchObject({
        Org: 'org1',
        AssetName: 'testphp.vulnweb.com',
        IpAddress: '44.228.249.3',
        Scanner: 'nessus',
      });
    }
  });

  it('maps Nessus severities 0–4 to priorities, counted as the sample has them', () => {
    const counts: Record<string, number> = {};
    for (const finding of findings) counts[finding.Priority] = (counts[finding.Priority] ?? 0) + 1;
    expect(counts).toEqual({ Info: 23, Low: 1, Medium: 13, High: 10, Critical: 1 });
  });

  it('reads CVEs, CVSS v3 when present and v2 otherwise, port and protocol', () => {
    const php = findings.find((finding) => finding.PluginId === 17797);
    expect(php).toMatchObject({
      Port: 80,
      Protocol: 'tcp',
      PluginFamily: 'CGI abuses',
      CvssScore: 7.5,
      CvssVersion: '3.0',
    });
    expect(php?.CvssVector).toMatch(/^CVSS:3\.0\/AV:N\//);
    expect(php?.Cves).toContain('CVE-2007-1001');
    const v2only = findings.find((finding) => finding.PluginId === 31649);
    expect(v2only).toMatchObject({ CvssScore: 7.5, CvssVector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P', CvssVersion: '2.0' });
    expect(v2only?.Cves).toHaveLength(15);
    const icmp = findings.find((finding) => finding.PluginId === 10114);
    expect(icmp).toMatchObject({ Port: 0, Protocol: 'icmp', Cves: ['CVE-1999-0524'], Priority: 'Info' });
  });

  it('dates each finding from the host scan start plus its severity band', () => {
    // HOST_START_TIMESTAMP 1648042311 = 2022-03-23.
    expect(findings.find((finding) => finding.PluginId === 58987)?.DueDate).toBe('2022-04-07');
    expect(findings.find((finding) => finding.PluginId === 10114)?.DueDate).toBe('2023-03-23');
  });

  it('keeps newlines of descriptions and plugin output', () => {
    expect(findings.find((finding) => finding.PluginId === 58987)?.Description).toContain('\n');
  });

  it('gives the same ids on every read (so a second push updates)', async () => {
    const again = await readAll(NESSUS_SAMPLE);
    expect(again.records.map((record) => record.finding.VulnID)).toEqual(findings.map((finding) => finding.VulnID));
  });
});

describe('parseNessus', () => {
  it('gives the same plugin on two hosts two ids, and one host two ids for two ports', async () => {
    const twice = item('port="443" protocol="tcp" severity="3" pluginID="1" pluginName="P"');
    const other = item('port="8443" protocol="tcp" severity="3" pluginID="1" pluginName="P"');
    const findings = await parseText(
      nessus(
        host('10.0.0.1', twice + other, '<tag name="host-ip">10.0.0.1</tag>') +
          host('10.0.0.2', twice, '<tag name="host-ip">10.0.0.2</tag>'),
      ),
    );
    expect(findings.map((finding) => finding.AssetName)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.2']);
    expect(new Set(findings.map((finding) => finding.VulnID)).size).toBe(3);
  });

  it('truncates plugin output to the bound, with a marker', async () => {
    const findings = await parseText(
      nessus(
        host(
          'h',
          item(
            'port="1" protocol="tcp" severity="1" pluginID="2" pluginName="P"',
            `<plugin_output>${'x'.repeat(100_000)}</plugin_output>`,
          ),
        ),
      ),
    );
    expect(findings[0]?.Evidence).toHaveLength(4096);
    expect(findings[0]?.Evidence?.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('refuses a billion-laughs file without expanding anything', async () => {
    const run = parseNessus(createReadStream(join(SCANS_DIR, 'xxe-billion-laughs.nessus')), MAPPING, newParseStats());
    await expect(run.next()).rejects.toThrow(
      new MalformedExportError('has a DOCTYPE; a Nessus export has none, and DTDs are never processed'),
    );
  });

  it('refuses an external-entity file without reading the entity', async () => {
    const run = parseNessus(createReadStream(join(SCANS_DIR, 'xxe-external-entity.nessus')), MAPPING, newParseStats());
    await expect(run.next()).rejects.toThrow(MalformedExportError);
  });

  it('refuses an entity reference that no DTD declares (strict XML), and leaves character references alone', async () => {
    await expect(parseText(nessus(host('h', item('pluginID="3" pluginName="&xxe;" severity="1"'))))).rejects.toThrow(
      MalformedExportError,
    );
    const findings = await parseText(nessus(host('h', item('pluginID="3" pluginName="A &amp; B &#65;" severity="1"'))));
    expect(findings[0]?.PluginName).toBe('A & B A');
  });

  it('says a file with another root element is not a scan export', async () => {
    await expect(parseText('<?xml version="1.0"?><html><body/></html>')).rejects.toThrow(NotAScanExportError);
  });

  it('says malformed XML is malformed', async () => {
    await expect(parseText('<NessusClientData_v2><Report><ReportHost name="a"></Report>')).rejects.toThrow(
      MalformedExportError,
    );
  });
});

describe('a synthetic export (thousands of items, many hosts)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synthetic-nessus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every item as its own finding, host by host', async () => {
    const path = join(dir, 'big.nessus');
    const written = await writeSyntheticNessus(path, { hosts: 60, itemsPerHost: 50, descriptionChars: 300 });
    const { records, stats } = await readAll(path);
    expect(stats.items).toBe(written);
    expect(records).toHaveLength(3000);
    expect(records.every((record) => record.ok)).toBe(true);
    expect(new Set(records.map((record) => record.finding.VulnID)).size).toBe(3000);
    expect(new Set(records.map((record) => record.finding.AssetName)).size).toBe(60);
  });
});
