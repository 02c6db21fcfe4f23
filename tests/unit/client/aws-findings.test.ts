import { findingSchema } from '../../../functions/shared/core/finding-schema';
import { deriveSeverity } from '../../../functions/shared/core/severity';
import { asffDraftsOf, labelOfNormalized, readAsff, recogniseAsff } from '../../../client/scan/asff';
import { inspectorDraftsOf, readInspector2, recogniseInspector2 } from '../../../client/scan/inspector2';
import { jsonKeyPaths } from '../../../client/scan/json-stream';
import { LeftOut } from '../../../client/scan/draft';
import { MalformedExportError } from '../../../client/scan/records';
import { assetsOf, fixtureText, readText } from '../../support/scan-readers';

const INSPECTOR = fixtureText('inspector2', 'aws_inspector2_many_vul.json');
const ASFF = fixtureText('securityhub', 'inspector_ec2_cve.json');
const readInspector = (text: string) => readText(readInspector2, text, 'inspector');
const readSecurityHub = (text: string) => readText(readAsff, text, 'securityhub');
const ECR_IMAGE =
  'arn:aws:ecr:us-east-1:012345678901:repository/my-awesome-docker-image/sha256:d667ad018b538adadb5bd1db75836c8561b23bc7d31d9cd8941fa74f5df93802';

describe('the Inspector v2 sample (inspector2/aws_inspector2_many_vul.json)', () => {
  it('reads 8 findings: 1 CLOSED left out, 7 into 9 findings (one per vulnerable package) on 2 assets', async () => {
    const { findings, stats } = await readInspector(INSPECTOR);
    expect(stats.items).toBe(8);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({ closed: 1 });
    expect(findings).toHaveLength(9);
    expect(assetsOf(findings)).toBe(2);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    expect(stats.scanStart?.toISOString()).toBe('2024-02-02T15:30:33.045Z');
    expect(findings.filter((finding) => finding.KnownExploit === true).map((finding) => finding.RuleId)).toEqual([
      'CVE-2023-42753',
      'CVE-2020-27170',
    ]);
  });

  it('maps a package finding exactly', async () => {
    const { findings } = await readInspector(INSPECTOR);
    const finding = findings.find((item) => item.RuleId === 'CVE-2023-42753');
    expect(finding).toEqual({
      VulnID: finding?.VulnID,
      Org: 'org1',
      AssetName: ECR_IMAGE,
      // lastObservedAt 2024-07-31 + 30 days (High).
      DueDate: '2024-08-30',
      RuleId: 'CVE-2023-42753',
      PluginName: 'CVE-2023-42753 - linux',
      Priority: 'High',
      Cves: ['CVE-2023-42753'],
      CvssScore: 7.8,
      CvssVector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
      CvssVersion: '3.1',
      PluginFamily: 'PACKAGE_VULNERABILITY',
      Description: expect.stringMatching(/^An array indexing vulnerability was found in the netfilter subsystem/),
      Solution: 'apt-get update && apt-get upgrade',
      PackageName: 'linux',
      PackageVersion: '4.19.118-2',
      FixedVersion: '0:4.19.304-1',
      References: expect.arrayContaining(['https://security-tracker.debian.org/tracker/CVE-2023-42753']),
      EpssScore: 0.00044,
      KnownExploit: true,
      Scanner: 'inspector',
    });
    const ec2 = findings.filter((item) => item.AssetName === 'i-0b22a22eec53b9321');
    expect(ec2.map((item) => [item.PackageName, item.PackageVersion, item.IpAddress, item.CvssVersion])).toEqual([
      ['libxml2', '2.9.1-6.el7_2.3', '8.84.11.16', '2.0'],
      ['libxml2-python', '2.9.1-6.el7_2.3', '8.84.11.16', '2.0'],
    ]);
    expect(ec2[0]?.References).toHaveLength(7);
  });

  it('maps INFORMATIONAL…CRITICAL, and UNTRIAGED to the CVSS band (none here: UNKNOWN)', async () => {
    const { findings } = await readInspector(INSPECTOR);
    expect(
      findings.map((finding) => [finding.Priority, deriveSeverity(finding.Priority ?? '', finding.CvssScore)]),
    ).toEqual([
      ['UNTRIAGED', 'UNKNOWN'],
      ['High', 'HIGH'],
      ['UNTRIAGED', 'UNKNOWN'],
      ['Medium', 'MEDIUM'],
      ['Medium', 'MEDIUM'],
      ['High', 'HIGH'],
      ['Medium', 'MEDIUM'],
      ['Low', 'LOW'],
      ['Low', 'LOW'],
    ]);
    const untriaged = inspectorDraftsOf({
      status: 'ACTIVE',
      severity: 'UNTRIAGED',
      resources: [{ id: 'i-1' }],
      packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2024-1', cvss: [{ baseScore: 9.8, version: '3.1' }] },
    });
    expect(untriaged).toMatchObject([{ priority: 'UNTRIAGED', cvss3: { score: '9.8' } }]);
  });

  it('gives stable VulnIDs: the two libxml2 builds of one image are two findings, a re-read the same ones', async () => {
    const first = (await readInspector(INSPECTOR)).findings;
    expect((await readInspector(INSPECTOR)).findings.map((finding) => finding.VulnID)).toEqual(
      first.map((f) => f.VulnID),
    );
    expect(new Set(first.map((finding) => finding.VulnID)).size).toBe(9);
    expect(first.filter((finding) => finding.RuleId === 'CVE-2022-29824').map((f) => f.PackageVersion)).toEqual([
      '2.9.4+dfsg1-7+b3',
      '2.9.4+dfsg1-7',
    ]);
  });

  it('maps code and network findings by detector and file, by port range and protocol', () => {
    const code = inspectorDraftsOf({
      type: 'CODE_VULNERABILITY',
      severity: 'HIGH',
      resources: [{ id: 'arn:aws:lambda:us-east-1:012345678901:function:f' }],
      codeVulnerabilityDetails: {
        detectorId: 'python/sql-injection@v1.0',
        cwes: ['CWE-89'],
        filePath: { filePath: 'app/db.py', startLine: 12 },
      },
    });
    expect(code).toMatchObject([
      { ruleId: 'python/sql-injection@v1.0', packagePath: 'app/db.py', location: ['app/db.py', 12], cwes: ['CWE-89'] },
    ]);
    const network = inspectorDraftsOf({
      type: 'NETWORK_REACHABILITY',
      severity: 'MEDIUM',
      resources: [{ id: 'i-2' }],
      networkReachabilityDetails: { openPortRange: { begin: 22, end: 22 }, protocol: 'TCP' },
    });
    expect(network).toMatchObject([
      { ruleId: 'NETWORK_REACHABILITY', port: 22, protocol: 'TCP', location: ['22-22', 'tcp'] },
    ]);
    expect(inspectorDraftsOf({ status: 'SUPPRESSED', resources: [{ id: 'i-3' }] })).toEqual(new LeftOut('suppressed'));
    expect(inspectorDraftsOf({ status: 'ACTIVE', resources: [] })).toBe('it names no resource (resources[0].id)');
    expect(inspectorDraftsOf(['not', 'an', 'object'])).toBe('not a JSON object');
  });
});

describe('the Security Hub ASFF sample (securityhub/inspector_ec2_cve.json)', () => {
  it('reads 5 findings into 2 on 2 assets: four report the same CVE in the same package of the same instance', async () => {
    const { findings, stats } = await readSecurityHub(ASFF);
    expect(stats.items).toBe(5);
    expect(stats.skipped).toEqual([]);
    expect(stats.ignored).toEqual({ repeated: 3 });
    expect(findings).toHaveLength(2);
    expect(assetsOf(findings)).toBe(2);
    expect(findings.filter((finding) => !findingSchema.safeParse(finding).success)).toEqual([]);
    expect(stats.scanStart?.toISOString()).toBe('2023-03-01T07:31:54.000Z');
  });

  it('maps a finding exactly', async () => {
    const { findings } = await readSecurityHub(ASFF);
    expect(findings[0]).toEqual({
      VulnID: findings[0]?.VulnID,
      Org: 'org1',
      AssetName: 'arn:aws:ec2:us-east-1:XXXXXXXXXXXX:i-11111111111111111',
      // LastObservedAt 2023-03-01 + 15 days (Critical).
      DueDate: '2023-03-16',
      RuleId: 'CVE-2022-3643',
      PluginName: 'CVE-2022-3643 - kernel',
      Priority: 'Critical',
      Cves: ['CVE-2022-3643'],
      CvssScore: 10,
      CvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      CvssVersion: '3.1',
      IpAddress: '11.1.11.111',
      PluginFamily: 'Inspector',
      Description: expect.stringMatching(/^Guests can trigger NIC interface reset/),
      Solution: 'yum update kernel',
      PackageName: 'kernel',
      PackageVersion: '4.14.301-224.520.amzn2',
      FixedVersion: '0:5.10.162-141.675.amzn2',
      References: [
        'https://xenbits.xenproject.org/xsa/advisory-423.txt',
        'https://lists.debian.org/debian-lts-announce/2022/12/msg00031.html',
        'https://lists.debian.org/debian-lts-announce/2022/12/msg00034.html',
        'https://nvd.nist.gov/vuln/detail/CVE-2022-3643',
      ],
      Scanner: 'securityhub',
    });
    expect(findings[1]?.AssetName).toBe('arn:aws:ec2:us-east-1:111111111111:i-11111111111111111');
  });

  it('gives stable VulnIDs', async () => {
    const first = (await readSecurityHub(ASFF)).findings.map((finding) => finding.VulnID);
    expect((await readSecurityHub(ASFF)).findings.map((finding) => finding.VulnID)).toEqual(first);
    expect(new Set(first).size).toBe(2);
  });

  it('maps a control finding by its control id, skips passed, resolved and archived ones, labels by Normalized', () => {
    const control = {
      GeneratorId: 'security-control/S3.1',
      Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
      Title: 'S3 general purpose buckets should have block public access settings enabled',
      Resources: [{ Type: 'AwsAccount', Id: 'AWS::::Account:012345678901' }],
      Compliance: { Status: 'FAILED', SecurityControlId: 'S3.1' },
      Severity: { Normalized: 40 },
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
    };
    expect(asffDraftsOf(control)).toMatchObject([
      { ruleId: 'S3.1', priority: 'MEDIUM', asset: 'AWS::::Account:012345678901', location: [control.Types[0]] },
    ]);
    expect(
      [
        { Compliance: { Status: 'PASSED' } },
        { Compliance: { Status: 'NOT_AVAILABLE' } },
        { Workflow: { Status: 'RESOLVED' } },
        { Workflow: { Status: 'SUPPRESSED' } },
        { RecordState: 'ARCHIVED' },
      ].map((change) => asffDraftsOf({ ...control, ...change })),
    ).toEqual(
      ['passed checks', 'checks not evaluated', 'resolved', 'suppressed', 'archived'].map((kind) => new LeftOut(kind)),
    );
    expect([0, 1, 39, 40, 69, 70, 89, 90, 100, 101].map(labelOfNormalized)).toEqual([
      'INFORMATIONAL',
      'LOW',
      'LOW',
      'MEDIUM',
      'MEDIUM',
      'HIGH',
      'HIGH',
      'CRITICAL',
      'CRITICAL',
      undefined,
    ]);
  });
});

describe('recognising and refusing the AWS exports', () => {
  it('recognises each by its top-level key and a finding field, not our own {"findings": [...]}', () => {
    const keys = (text: string) => jsonKeyPaths(text.slice(0, 4096)) ?? new Set<string>();
    expect(recogniseInspector2(keys(INSPECTOR))).toBe(true);
    expect(recogniseAsff(keys(ASFF))).toBe(true);
    expect(recogniseInspector2(keys(ASFF))).toBe(false);
    expect(recogniseAsff(keys(INSPECTOR))).toBe(false);
    const ours = keys(fixtureText('findings.json'));
    expect(recogniseInspector2(ours) || recogniseAsff(ours)).toBe(false);
    // An Inspector export with no findings is no export of findings to read: `{"findings": []}` is our own.
    expect(recogniseInspector2(keys('{"findings": []}'))).toBe(false);
  });

  it('refuses a truncated export, and one nested deeper than any export', async () => {
    await expect(readInspector(INSPECTOR.slice(0, INSPECTOR.length - 100))).rejects.toThrow(MalformedExportError);
    await expect(readSecurityHub(ASFF.slice(0, 5000))).rejects.toMatchObject({ kind: 'truncated' });
    await expect(readSecurityHub(`{"Findings":[${'['.repeat(200)}`)).rejects.toMatchObject({ kind: 'too-deep' });
  });
});
