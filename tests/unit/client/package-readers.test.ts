/**
 * The Trivy, Grype and OSV-Scanner readers on the real sample exports (tests/fixtures/scans, from
 * DefectDojo's parser tests): counts pinned (records read, findings, assets, skipped and left out)
 * and fields mapped exactly, then the shapes the samples lack (Kubernetes reports, misconfigurations,
 * GHSA matches with their CVE, OSV groups) from small documents written here.
 */
import { Readable } from 'node:stream';
import type { Finding } from '../../../functions/shared/core/finding-schema';
import { findingSchema } from '../../../functions/shared/core/finding-schema';
import { findingIdentity } from '../../../client/scan/identity';
import { parseGrype } from '../../../client/scan/grype';
import { parseOsv } from '../../../client/scan/osv';
import { parseTrivy } from '../../../client/scan/trivy';
import { newParseStats, type ParseStats } from '../../../client/scan/records';
import { GRYPE_SAMPLE, MAPPING, OSV_SAMPLE, TRIVY_SAMPLES, chunked, mappingFor, readAll } from '../../support/scans';

const countBy = <T>(items: T[], key: (item: T) => string) =>
  items.reduce<Record<string, number>>((counts, item) => {
    counts[key(item)] = (counts[key(item)] ?? 0) + 1;
    return counts;
  }, {});

async function sample(path: string, scanner: string) {
  const { records, stats } = await readAll(path, mappingFor(scanner));
  const findings = records.filter((record) => record.ok).map((record) => record.finding as Finding);
  return { records, stats, findings, byRule: (rule: string) => findings.filter((finding) => finding.RuleId === rule) };
}

/** Findings of a document written here, validated with the API schema. */
async function readDocument(
  parse: (input: Readable, options: typeof MAPPING, stats: ParseStats) => AsyncGenerator<{ finding: Partial<Finding> }>,
  document: unknown,
  scanner: string,
) {
  const stats = newParseStats();
  const findings: Finding[] = [];
  for await (const record of parse(chunked(JSON.stringify(document), 13), mappingFor(scanner), stats))
    findings.push(findingSchema.parse(record.finding));
  return { findings, stats };
}

describe('Trivy, SchemaVersion 2 (scheme_2_many_vulns.json: an image, 3 results, 5 vulnerabilities)', () => {
  it('reads 5 vulnerabilities as 5 findings on one asset, the image, nothing skipped', async () => {
    const { records, stats, findings } = await sample(TRIVY_SAMPLES.schema2, 'trivy');
    expect(stats).toMatchObject({ items: 5, skipped: [], ignored: {} });
    expect(records.every((record) => record.ok)).toBe(true);
    expect(findings).toHaveLength(5);
    expect(new Set(findings.map((finding) => finding.AssetName))).toEqual(new Set(['teamdojo:latest']));
    expect(countBy(findings, (finding) => finding.Priority)).toEqual({ Critical: 1, High: 1, Medium: 3 });
    expect(countBy(findings, (finding) => finding.PluginFamily ?? '')).toEqual({ alpine: 3, jar: 2 });
  });

  it('maps a vulnerability field by field, and its id from asset, rule, package, version and path', async () => {
    const { byRule } = await sample(TRIVY_SAMPLES.schema2, 'trivy');
    const [freetype] = byRule('CVE-2020-15999');
    expect(freetype).toMatchObject({
      VulnID: findingIdentity({
        scanner: 'trivy',
        asset: 'teamdojo:latest',
        rule: 'CVE-2020-15999',
        location: ['freetype', '2.9.1-r2', 'app/libs/freetype-2.9.1-r2'],
      }),
      Org: 'org1',
      AssetName: 'teamdojo:latest',
      RuleId: 'CVE-2020-15999',
      PluginName: 'freetype: Heap-based buffer overflow due to integer truncation in Load_SBit_Png',
      Priority: 'Medium',
      Cves: ['CVE-2020-15999'],
      // SeveritySource nvd: NVD's v3 score and vector, not Red Hat's 8.6.
      CvssScore: 6.5,
      CvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H',
      CvssVersion: '3.1',
      PackageName: 'freetype',
      PackageVersion: '2.9.1-r2',
      FixedVersion: '2.9.1-r3',
      PackagePath: 'app/libs/freetype-2.9.1-r2',
      Cwes: ['CWE-787'],
      Solution: 'Upgrade freetype to 2.9.1-r3.',
      Scanner: 'trivy',
      // No scan time in this report: today (MAPPING.now) + the medium band's 90 days.
      DueDate: '2026-04-15',
    });
    expect(freetype?.VulnID).toMatch(/^trivy-[0-9a-f]{32}$/);
    expect(freetype?.References?.[0]).toBe('https://avd.aquasec.com/nvd/cve-2020-15999');
    expect(freetype?.References).toHaveLength(20);
    expect(byRule('CVE-2019-12900')[0]).toMatchObject({ Priority: 'Critical', PackageName: 'libbz2' });
    expect(byRule('CVE-2018-1324')[0]).toMatchObject({
      PackageName: 'org.apache.commons:commons-compress',
      FixedVersion: '1.16',
      PluginFamily: 'jar',
    });
  });
});

describe('Trivy, the older list form (legacy_many_vulns.json: debian 10.8, 93 vulnerabilities)', () => {
  it('reads 93 vulnerabilities as 93 findings on the target, none skipped', async () => {
    const { stats, findings } = await sample(TRIVY_SAMPLES.legacy, 'trivy');
    expect(stats).toMatchObject({ items: 93, skipped: [], ignored: {} });
    expect(findings).toHaveLength(93);
    expect(new Set(findings.map((finding) => finding.AssetName))).toEqual(new Set(['debian (debian 10.8)']));
    expect(countBy(findings, (finding) => finding.Priority)).toEqual({ Low: 65, High: 18, Medium: 9, Unknown: 1 });
    expect(findings.filter((finding) => finding.FixedVersion !== undefined)).toHaveLength(0);
  });

  it('keeps a distribution id as the rule (no CVE), and UNKNOWN severity without CVSS stays UNKNOWN', async () => {
    const { byRule } = await sample(TRIVY_SAMPLES.legacy, 'trivy');
    const [temporary] = byRule('TEMP-0981404-911A2F');
    expect(temporary).toMatchObject({
      AssetName: 'debian (debian 10.8)',
      PluginName: 'TEMP-0981404-911A2F in libzstd1 1.3.8+dfsg-3',
      Priority: 'Unknown',
      PackageName: 'libzstd1',
      PackageVersion: '1.3.8+dfsg-3',
      References: ['https://security-tracker.debian.org/tracker/TEMP-0981404-911A2F'],
    });
    expect(temporary).not.toHaveProperty('Cves');
    expect(temporary).not.toHaveProperty('CvssScore');
  });
});

describe('Trivy shapes the samples lack', () => {
  const vulnerability = (id: string, pkg: string) => ({
    VulnerabilityID: id,
    PkgName: pkg,
    InstalledVersion: '1.0.0',
    Severity: 'HIGH',
  });

  it('leaves out misconfigurations, secrets and licenses, counted, and takes the scan time from CreatedAt', async () => {
    const { findings, stats } = await readDocument(
      parseTrivy,
      {
        SchemaVersion: 2,
        CreatedAt: '2026-03-02T09:00:00.123456789Z',
        ArtifactName: '.',
        ArtifactType: 'filesystem',
        Results: [
          {
            Target: 'package-lock.json',
            Class: 'lang-pkgs',
            Type: 'npm',
            Vulnerabilities: [vulnerability('CVE-2026-0001', 'a')],
          },
          {
            Target: 'Dockerfile',
            Class: 'config',
            Type: 'dockerfile',
            Misconfigurations: [{ ID: 'DS002' }, { ID: 'DS026' }],
          },
          { Target: '.env', Class: 'secret', Secrets: [{ RuleID: 'aws-access-key-id' }] },
          { Target: 'OS Packages', Class: 'license', Licenses: [{ Name: 'GPL-2.0' }] },
        ],
      },
      'trivy',
    );
    expect(findings.map((finding) => [finding.AssetName, finding.PackagePath, finding.DueDate])).toEqual([
      ['.', 'package-lock.json', '2026-04-01'],
    ]);
    expect(stats).toMatchObject({ items: 1, skipped: [], ignored: { misconfigurations: 2, secrets: 1, licenses: 1 } });
    expect(stats.scanStart?.toISOString()).toBe('2026-03-02T09:00:00.123Z');
  });

  it('names a Kubernetes workload cluster/namespace/kind/name, in the report and the older form', async () => {
    const resource = (name: string) => ({
      Namespace: 'shop',
      Kind: 'Deployment',
      Name: name,
      Results: [
        {
          Target: 'nginx:1.25 (debian 12.1)',
          Type: 'debian',
          Vulnerabilities: [vulnerability('CVE-2026-0002', 'libc6')],
        },
      ],
    });
    const report = await readDocument(
      parseTrivy,
      { ClusterName: 'prod', Resources: [resource('web'), resource('api')] },
      'trivy',
    );
    expect(report.findings.map((finding) => [finding.AssetName, finding.PackagePath])).toEqual([
      ['prod/shop/Deployment/web', 'nginx:1.25 (debian 12.1)'],
      ['prod/shop/Deployment/api', 'nginx:1.25 (debian 12.1)'],
    ]);
    const older = await readDocument(
      parseTrivy,
      { ClusterName: 'prod', Vulnerabilities: [resource('web')], Misconfigurations: [] },
      'trivy',
    );
    expect(older.findings.map((finding) => finding.AssetName)).toEqual(['prod/shop/Deployment/web']);
  });

  it('reads a Target written after the vulnerabilities, and counts a vulnerability without a package as skipped', async () => {
    const { findings, stats } = await readDocument(
      parseTrivy,
      [
        {
          Vulnerabilities: [vulnerability('CVE-2026-0003', 'b'), { VulnerabilityID: 'CVE-2026-0004' }],
          Target: 'alpine 3.19',
        },
      ],
      'trivy',
    );
    expect(findings.map((finding) => finding.AssetName)).toEqual(['alpine 3.19']);
    expect(stats.items).toBe(2);
    expect(stats.skipped).toEqual([
      {
        where: 'vulnerability 0.Vulnerabilities.1',
        reason: 'has no VulnerabilityID, PkgName or InstalledVersion, or its report names no artifact or target',
      },
    ]);
  });
});

describe('Grype (many_vulns.json: python:3.6, 1,509 matches)', () => {
  it('reads 1,509 matches as 1,509 findings on the image named by the user, the scan time absent', async () => {
    const { stats, findings } = await sample(GRYPE_SAMPLE, 'grype');
    expect(stats).toMatchObject({ items: 1509, skipped: [], ignored: {} });
    expect(stats.scanStart).toBeUndefined();
    expect(findings).toHaveLength(1509);
    expect(new Set(findings.map((finding) => finding.AssetName))).toEqual(new Set(['python:3.6']));
    expect(countBy(findings, (finding) => finding.Priority)).toEqual({
      Info: 681,
      Medium: 613,
      Low: 107,
      Unknown: 76,
      High: 32,
    });
    expect(countBy(findings, (finding) => finding.PluginFamily ?? '')).toEqual({ deb: 1507, python: 2 });
    expect(new Set(findings.map((finding) => finding.PackageName)).size).toBe(178);
    expect(findings.filter((finding) => finding.FixedVersion !== undefined)).toHaveLength(32);
  });

  it('maps a match field by field: CVSS v2, the fixed version, the first location as the path', async () => {
    const { findings } = await sample(GRYPE_SAMPLE, 'grype');
    const ldap = findings.find(
      (finding) => finding.RuleId === 'CVE-2020-36221' && finding.PackageName === 'libldap-2.4-2',
    );
    expect(ldap).toMatchObject({
      VulnID: findingIdentity({
        scanner: 'grype',
        asset: 'python:3.6',
        rule: 'CVE-2020-36221',
        location: ['libldap-2.4-2', '2.4.47+dfsg-3+deb10u4', '/var/lib/dpkg/status'],
      }),
      AssetName: 'python:3.6',
      PluginName: 'CVE-2020-36221 in libldap-2.4-2 2.4.47+dfsg-3+deb10u4',
      Priority: 'Medium',
      Cves: ['CVE-2020-36221'],
      CvssScore: 5,
      CvssVector: 'AV:N/AC:L/Au:N/C:N/I:N/A:P',
      CvssVersion: '2.0',
      PackageVersion: '2.4.47+dfsg-3+deb10u4',
      FixedVersion: '2.4.47+dfsg-3+deb10u5',
      PackagePath: '/var/lib/dpkg/status',
      PluginFamily: 'deb',
      References: ['https://security-tracker.debian.org/tracker/CVE-2020-36221'],
      Scanner: 'grype',
    });
    const pip = findings.find((finding) => finding.PackageName === 'pip');
    expect(pip).toMatchObject({
      RuleId: 'CVE-2018-20225',
      Priority: 'High',
      PluginFamily: 'python',
      PackagePath: '/usr/local/lib/python3.6/site-packages/pip-20.3.3.dist-info/METADATA',
    });
  });

  it('reads a GHSA match with its CVE, EPSS, known exploitation and newer CVSS, and the source after the matches', async () => {
    const { findings, stats } = await readDocument(
      parseGrype,
      {
        matches: [
          {
            vulnerability: {
              id: 'GHSA-xxxx-yyyy-zzzz',
              dataSource: 'https://github.com/advisories/GHSA-xxxx-yyyy-zzzz',
              severity: 'Critical',
              urls: ['https://example.org/advisory'],
              cvss: [
                { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', metrics: { baseScore: 9.8 } },
              ],
              fix: { versions: ['2.17.1'], state: 'fixed' },
              epss: [{ cve: 'CVE-2021-44228', epss: 0.97, percentile: 0.99 }],
              knownExploited: [{ cve: 'CVE-2021-44228', knownRansomwareCampaignUse: 'Known' }],
            },
            relatedVulnerabilities: [{ id: 'CVE-2021-44228', description: 'Log4Shell.' }],
            artifact: {
              name: 'log4j-core',
              version: '2.14.1',
              type: 'java-archive',
              locations: [{ path: '/app/lib/log4j-core-2.14.1.jar' }],
            },
          },
        ],
        source: { type: 'directory', target: '/srv/app' },
        descriptor: { name: 'grype', version: '0.92.0', timestamp: '2026-03-02T09:00:00Z' },
      },
      'grype',
    );
    expect(findings).toEqual([
      expect.objectContaining({
        AssetName: '/srv/app',
        RuleId: 'GHSA-xxxx-yyyy-zzzz',
        Cves: ['CVE-2021-44228'],
        Priority: 'Critical',
        CvssScore: 9.8,
        CvssVersion: '3.1',
        FixedVersion: '2.17.1',
        EpssScore: 0.97,
        KnownExploit: true,
        Description: 'Log4Shell.',
        References: ['https://github.com/advisories/GHSA-xxxx-yyyy-zzzz', 'https://example.org/advisory'],
        DueDate: '2026-03-17',
      }),
    ]);
    expect(stats.scanStart?.toISOString()).toBe('2026-03-02T09:00:00.000Z');
  });
});

describe('OSV-Scanner (some_findings.json: one lockfile, one malicious npm package)', () => {
  it('reads 1 vulnerability as 1 finding on the lockfile, field by field', async () => {
    const { stats, findings } = await sample(OSV_SAMPLE, 'osv-scanner');
    expect(stats).toMatchObject({ items: 1, skipped: [], ignored: {} });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      VulnID: findingIdentity({
        scanner: 'osv-scanner',
        asset: '/tmp/components/yarn.lock',
        rule: 'MAL-2023-1035',
        location: ['flot-axis', '0.0.0', ''],
      }),
      AssetName: '/tmp/components/yarn.lock',
      RuleId: 'MAL-2023-1035',
      PluginName: 'Malicious code in flot-axis (npm)',
      // No severity in the entry and no CVSS: our severity is UNKNOWN, its due date the medium band's.
      Priority: 'Unknown',
      PackageName: 'flot-axis',
      PackageVersion: '0.0.0',
      PluginFamily: 'npm',
      Cwes: ['CWE-506'],
      References: ['https://github.com/advisories/GHSA-8348-2q94-ffjx'],
      Scanner: 'osv-scanner',
      DueDate: '2026-04-15',
    });
    expect(findings[0]?.Description).toMatch(/^---\n_-= Per source details/);
    expect(findings[0]).not.toHaveProperty('Cves');
  });

  it('makes one finding of a group (a GHSA and its CVE), with the fixed version, the CVSS vector and the maximum score', async () => {
    const entry = (id: string, aliases: string[]) => ({
      id,
      aliases,
      summary: 'Prototype pollution in lodash',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [
        {
          package: { name: 'lodash', ecosystem: 'npm' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
          versions: ['4.17.20'],
        },
      ],
      database_specific: { severity: 'HIGH', cwe_ids: ['CWE-1321'] },
      references: [{ type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2020-8203' }],
    });
    const { findings, stats } = await readDocument(
      parseOsv,
      {
        results: [
          {
            source: { path: '/srv/app/package-lock.json', type: 'lockfile' },
            packages: [
              {
                package: { name: 'lodash', version: '4.17.20', ecosystem: 'npm' },
                vulnerabilities: [
                  entry('GHSA-p6mc-m468-83gw', ['CVE-2020-8203']),
                  entry('CVE-2020-8203', ['GHSA-p6mc-m468-83gw']),
                ],
                groups: [
                  {
                    ids: ['GHSA-p6mc-m468-83gw', 'CVE-2020-8203'],
                    aliases: ['CVE-2020-8203', 'GHSA-p6mc-m468-83gw'],
                    max_severity: '7.4',
                  },
                ],
              },
            ],
          },
        ],
      },
      'osv-scanner',
    );
    expect(stats.items).toBe(2);
    expect(findings).toEqual([
      expect.objectContaining({
        RuleId: 'GHSA-p6mc-m468-83gw',
        Cves: ['CVE-2020-8203'],
        Priority: 'High',
        CvssScore: 7.4,
        CvssVersion: '3.1',
        FixedVersion: '4.17.21',
        Cwes: ['CWE-1321'],
        Solution: 'Upgrade lodash to 4.17.21.',
      }),
    ]);
    expect(findings[0]).not.toHaveProperty('PackagePath');
  });
});
