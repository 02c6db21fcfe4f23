/**
 * Synthetic exports of any size for `npm run bench:import`, one per format push reads (Nessus v2 has
 * its own generator, synthetic-nessus.ts): the shape of each format's real sample
 * (tests/fixtures/scans) with realistic text lengths, every record a distinct finding (the package
 * version, the host or the rule differs), written as a stream. Deterministic: the same size gives the
 * same file.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

const LOREM = 'A crafted input lets a remote attacker cause a denial of service or possibly execute code. ';
const text = (chars: number) => LOREM.repeat(Math.ceil(chars / LOREM.length)).slice(0, chars);
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
const cve = (n: number) => `CVE-20${10 + (n % 15)}-${String(10000 + (n % 89999))}`;
const urls = (n: number) => Array.from({ length: 8 }, (_, i) => `https://security.example.org/advisories/${n}/${i}`);

function trivyRecord(n: number) {
  return {
    VulnerabilityID: cve(n),
    PkgName: `package-${n % 700}`,
    InstalledVersion: `1.${n}.0-r1`,
    FixedVersion: `1.${n}.1-r0`,
    Layer: { DiffID: 'sha256:edd61588d12669e2d71a0de2aab96add3304bf565730e1e6144ec3c3fac339e4' },
    SeveritySource: 'nvd',
    PrimaryURL: `https://avd.aquasec.com/nvd/${cve(n).toLowerCase()}`,
    Title: `package-${n % 700}: heap-based buffer overflow in parser ${n}`,
    Description: text(1200),
    Severity: SEVERITIES[n % SEVERITIES.length],
    CweIDs: ['CWE-787'],
    CVSS: { nvd: { V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H', V3Score: 6.5 } },
    References: urls(n),
    PublishedDate: '2024-11-03T03:15:00Z',
  };
}

function grypeRecord(n: number) {
  return {
    vulnerability: {
      id: cve(n),
      dataSource: `https://nvd.nist.gov/vuln/detail/${cve(n)}`,
      severity: ['Critical', 'High', 'Medium', 'Low', 'Negligible'][n % 5],
      urls: urls(n),
      description: text(1200),
      cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', metrics: { baseScore: 9.8 } }],
      fix: { versions: [`2.${n}.0`], state: 'fixed' },
    },
    relatedVulnerabilities: [],
    matchDetails: [{ type: 'exact-direct-match', matcher: 'dpkg-matcher', searchedBy: { distro: { type: 'debian' } } }],
    artifact: {
      name: `package-${n % 700}`,
      version: `1.${n}.0`,
      type: 'deb',
      locations: [{ path: '/var/lib/dpkg/status', layerID: 'sha256:b6f245391ec4f035b4dd51710d1bd6c12dd3d731f4d0f923' }],
      purl: `pkg:deb/debian/package-${n % 700}@1.${n}.0?arch=amd64`,
    },
  };
}

function osvRecord(n: number) {
  const id = `GHSA-${String(n).padStart(4, '0')}-abcd-efgh`;
  return {
    package: { name: `package-${n % 700}`, version: `1.${n}.0`, ecosystem: 'npm' },
    vulnerabilities: [
      {
        id,
        aliases: [cve(n)],
        summary: `Prototype pollution in package-${n % 700}`,
        details: text(1200),
        affected: [
          {
            package: { ecosystem: 'npm', name: `package-${n % 700}` },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: `1.${n}.1` }] }],
          },
        ],
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
        references: urls(n).map((url) => ({ type: 'WEB', url })),
        database_specific: { severity: 'HIGH', cwe_ids: ['CWE-1321'] },
      },
    ],
    groups: [{ ids: [id], aliases: [cve(n), id], max_severity: '9.8' }],
  };
}

/** A few hosts with many findings each, as network scans are: the host of record `n`. */
const HOSTS_EVERY = 100;
const hostOf = (n: number) => Math.floor(n / HOSTS_EVERY);
const ipOf = (host: number) => `10.${(host >> 16) & 255}.${(host >> 8) & 255}.${host & 255}`;
const fqdnOf = (host: number) => `host-${host}.corp.example.org`;
/** The rule of record `n` on its host: distinct within a host. */
const ruleOf = (n: number) => n % HOSTS_EVERY;
const PORTS = [22, 80, 443, 445, 3389, 8080, 8443];
const portOf = (n: number) => PORTS[n % PORTS.length] as number;
const WORDS = ['Critical', 'High', 'Medium', 'Low', 'Info'];
const isoAt = (n: number) => new Date(Date.UTC(2026, 2, 2, 9, 0, 0) + (n % 3600) * 1000).toISOString();
const VECTOR3 = 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';

const csvCell = (value: string | number) => `"${String(value).replace(/"/g, '""')}"`;

/** A CSV export: its header (the real sample's column names), then one row a record, cells by column. */
function csvShape(header: string[], delimiter: string, row: (n: number) => Record<string, string | number>) {
  return {
    prefix: header.map(csvCell).join(delimiter) + '\n',
    record: (n: number) => {
      const cells = row(n);
      return header.map((column) => csvCell(cells[column] ?? '')).join(delimiter) + '\n';
    },
    separator: '',
    suffix: '',
  };
}

const jsonShape = (prefix: string, record: (n: number) => unknown, suffix: string) => ({
  prefix,
  record: (n: number) => JSON.stringify(record(n)),
  separator: ',',
  suffix,
});

/** Our own findings, as `{"findings": [...]}`. */
function ownRecord(n: number) {
  return {
    VulnID: `synthetic-${n}`,
    AssetName: fqdnOf(hostOf(n)),
    DueDate: '2026-04-01',
    PluginId: 10_000 + ruleOf(n),
    PluginName: `Synthetic finding ${ruleOf(n)}`,
    Priority: WORDS[n % WORDS.length],
    Cves: [cve(n)],
    CvssScore: 9.8,
    CvssVector: VECTOR3,
    CvssVersion: '3.0',
    Port: portOf(n),
    Protocol: 'tcp',
    IpAddress: ipOf(hostOf(n)),
    Description: text(1200),
    Solution: text(300),
  };
}

function inspectorRecord(n: number) {
  const instance = `i-${(0x1000000 + hostOf(n)).toString(16).padStart(17, '0')}`;
  return {
    awsAccountId: '012345678901',
    description: text(1200),
    epss: { score: 0.00075 },
    exploitAvailable: n % 7 === 0 ? 'YES' : 'NO',
    findingArn: `arn:aws:inspector2:us-east-1:012345678901:finding/${n.toString(16).padStart(32, '0')}`,
    firstObservedAt: '2026-02-02T16:30:33.045000+01:00',
    fixAvailable: 'YES',
    inspectorScore: 5.5,
    lastObservedAt: isoAt(n),
    packageVulnerabilityDetails: {
      cvss: [
        {
          baseScore: 5.5,
          scoringVector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H',
          source: 'NVD',
          version: '3.1',
        },
      ],
      referenceUrls: urls(n).slice(0, 3),
      relatedVulnerabilities: [],
      source: 'NVD',
      sourceUrl: `https://nvd.nist.gov/vuln/detail/${cve(n)}`,
      vendorSeverity: 'MEDIUM',
      vulnerabilityId: cve(n),
      vulnerablePackages: [
        {
          arch: 'X86_64',
          epoch: 0,
          fixedInVersion: `0:1.${n}.1`,
          name: `package-${n % 700}`,
          packageManager: 'OS',
          release: '2',
          version: `1.${n}.0`,
        },
      ],
    },
    remediation: { recommendation: { text: 'None Provided' } },
    resources: [
      {
        details: {
          awsEc2Instance: {
            imageId: 'ami-0123456789abcdef0',
            ipV4Addresses: [ipOf(hostOf(n))],
            platform: 'AMAZON_LINUX_2',
          },
        },
        id: instance,
        partition: 'aws',
        region: 'us-east-1',
        type: 'AWS_EC2_INSTANCE',
      },
    ],
    severity: SEVERITIES[n % 4],
    status: 'ACTIVE',
    title: `${cve(n)} - package-${n % 700}`,
    type: 'PACKAGE_VULNERABILITY',
    updatedAt: isoAt(n),
  };
}

function asffRecord(n: number) {
  const instance = `i-${(0x1000000 + hostOf(n)).toString(16).padStart(17, '0')}`;
  const id = `arn:aws:inspector2:us-east-1:012345678901:finding/${n.toString(16).padStart(32, '0')}`;
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector',
    ProductName: 'Inspector',
    CompanyName: 'Amazon',
    Region: 'us-east-1',
    GeneratorId: 'AWSInspector',
    AwsAccountId: '012345678901',
    Types: ['Software and Configuration Checks/Vulnerabilities/CVE'],
    FirstObservedAt: '2026-03-01T08:04:10Z',
    LastObservedAt: isoAt(n),
    CreatedAt: '2026-03-01T08:04:10Z',
    UpdatedAt: isoAt(n),
    Severity: { Label: SEVERITIES[n % 4], Normalized: [90, 70, 40, 1][n % 4] },
    Title: `${cve(n)} - package-${n % 700}`,
    Description: text(1200),
    Remediation: { Recommendation: { Text: 'None Provided' } },
    ProductFields: { 'aws/inspector/FindingStatus': 'ACTIVE', 'aws/inspector/instanceId': instance },
    Resources: [
      {
        Type: 'AwsEc2Instance',
        Id: `arn:aws:ec2:us-east-1:012345678901:instance/${instance}`,
        Partition: 'aws',
        Region: 'us-east-1',
        Details: { AwsEc2Instance: { Type: 'c6i.large', IpV4Addresses: [ipOf(hostOf(n))] } },
      },
    ],
    WorkflowState: 'NEW',
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
    Vulnerabilities: [
      {
        Id: cve(n),
        VulnerablePackages: [
          {
            Name: `package-${n % 700}`,
            Version: `1.${n}.0`,
            Epoch: '0',
            Release: '1.amzn2',
            Architecture: 'X86_64',
            PackageManager: 'OS',
            FixedInVersion: `0:1.${n}.1`,
          },
        ],
        Cvss: [
          { Version: '3.1', BaseScore: 9.8, BaseVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', Source: 'NVD' },
        ],
        Vendor: { Name: 'NVD', Url: `https://nvd.nist.gov/vuln/detail/${cve(n)}`, VendorSeverity: 'CRITICAL' },
        ReferenceUrls: urls(n).slice(0, 3),
      },
    ],
  };
}

/** Tenable/Nessus CSV (`nessus_many_vuln.csv`'s columns). */
const TENABLE_CSV = csvShape(
  [
    'Plugin',
    'Plugin Name',
    'Family',
    'Severity',
    'IP Address',
    'Protocol',
    'Port',
    'Exploit?',
    'DNS Name',
    'Plugin Text',
    'Synopsis',
    'Description',
    'Solution',
    'CVSS V3 Base Score',
    'CVSS V3 Vector',
    'CVE',
    'Last Observed',
  ],
  ',',
  (n) => ({
    Plugin: 10_000 + ruleOf(n),
    'Plugin Name': `Synthetic plugin ${ruleOf(n)}`,
    Family: 'General',
    Severity: WORDS[n % WORDS.length] as string,
    'IP Address': ipOf(hostOf(n)),
    Protocol: 'TCP',
    Port: portOf(n),
    'Exploit?': 'No',
    'DNS Name': fqdnOf(hostOf(n)),
    'Plugin Text': `Plugin Output: \n${text(300)}`,
    Synopsis: text(120),
    Description: text(1200),
    Solution: text(200),
    'CVSS V3 Base Score': '9.8',
    'CVSS V3 Vector': 'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    CVE: cve(n),
    'Last Observed': 'Mar 2, 2026 09:00:00 UTC',
  }),
);

/** Tenable Vulnerability Management CSV (`tenable-vm/nessus_new.csv`'s dotted columns, `;`). */
const TENABLE_VM_CSV = csvShape(
  [
    'asset.display_fqdn',
    'asset.display_ipv4_address',
    'asset.host_name',
    'asset.name',
    'definition.cve',
    'definition.cvss3.base_score',
    'definition.cvss3.base_vector',
    'definition.cwe',
    'definition.description',
    'definition.family',
    'definition.id',
    'definition.name',
    'definition.see_also',
    'definition.severity',
    'definition.solution',
    'definition.synopsis',
    'last_seen',
    'output',
    'port',
    'protocol',
    'severity',
    'state',
  ],
  ';',
  (n) => ({
    'asset.display_fqdn': fqdnOf(hostOf(n)),
    'asset.display_ipv4_address': ipOf(hostOf(n)),
    'asset.host_name': `host-${hostOf(n)}`,
    'asset.name': fqdnOf(hostOf(n)),
    'definition.cve': cve(n),
    'definition.cvss3.base_score': '9.8',
    'definition.cvss3.base_vector': VECTOR3,
    'definition.cwe': 'CWE-787',
    'definition.description': text(1200),
    'definition.family': 'General',
    'definition.id': 10_000 + ruleOf(n),
    'definition.name': `Synthetic plugin ${ruleOf(n)}`,
    'definition.see_also': urls(n).slice(0, 2).join('\n'),
    'definition.severity': (WORDS[n % WORDS.length] as string).toUpperCase(),
    'definition.solution': text(200),
    'definition.synopsis': text(120),
    last_seen: isoAt(n),
    output: text(300),
    port: portOf(n),
    protocol: 'TCP',
    severity: (WORDS[n % WORDS.length] as string).toUpperCase(),
    state: 'ACTIVE',
  }),
);

/** OpenVAS / Greenbone CSV results (`openvas/many_vuln.csv`'s columns). */
const OPENVAS_CSV = csvShape(
  [
    'IP',
    'Hostname',
    'Port',
    'Port Protocol',
    'CVSS',
    'Severity',
    'Solution Type',
    'NVT Name',
    'Summary',
    'Specific Result',
    'NVT OID',
    'CVEs',
    'Task ID',
    'Task Name',
    'Timestamp',
    'Result ID',
    'Impact',
    'Solution',
    'Affected Software/OS',
    'Vulnerability Insight',
    'Vulnerability Detection Method',
    'Product Detection Result',
    'BIDs',
    'CERTs',
    'Other References',
  ],
  ',',
  (n) => ({
    IP: ipOf(hostOf(n)),
    Hostname: `HOST-${hostOf(n)}`,
    Port: portOf(n),
    'Port Protocol': 'tcp',
    CVSS: '7.5',
    Severity: WORDS[n % 4] as string,
    'Solution Type': 'VendorFix',
    'NVT Name': `Synthetic NVT ${ruleOf(n)}`,
    Summary: text(400),
    'Specific Result': text(300),
    'NVT OID': `1.3.6.1.4.1.25623.1.0.${100_000 + ruleOf(n)}`,
    CVEs: cve(n),
    'Task ID': '9fa7a15b-99bc-4f9a-a154-d607dbfecdb6',
    'Task Name': 'synthetic',
    Timestamp: isoAt(n),
    'Result ID': `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    Impact: text(300),
    Solution: text(200),
    'Vulnerability Insight': text(300),
    'Other References': urls(n)[0] as string,
  }),
);

/** Qualys scan report CSV (`qualys/Qualys_Sample_Report.csv`'s columns, header first). */
const QUALYS_CSV = csvShape(
  [
    'IP',
    'Network',
    'DNS',
    'NetBIOS',
    'Tracking Method',
    'OS',
    'IP Status',
    'QID',
    'Title',
    'Vuln Status',
    'Type',
    'Severity',
    'Port',
    'Protocol',
    'FQDN',
    'SSL',
    'First Detected',
    'Last Detected',
    'Times Detected',
    'Date Last Fixed',
    'CVE ID',
    'Vendor Reference',
    'Bugtraq ID',
    'CVSS3',
    'CVSS3 Base',
    'CVSS3 Temporal',
    'Threat',
    'Impact',
    'Solution',
    'Exploitability',
    'Associated Malware',
    'PCI Vuln',
    'Ticket State',
    'Instance',
    'OS CPE',
    'Category',
    'Associated Tags',
  ],
  ',',
  (n) => ({
    IP: ipOf(hostOf(n)),
    Network: 'Global Default Network',
    DNS: fqdnOf(hostOf(n)),
    NetBIOS: `HOST-${hostOf(n)}`,
    'Tracking Method': 'QAGENT',
    OS: 'Windows Server 2016',
    'IP Status': 'host scanned, found vuln',
    QID: 90_000 + ruleOf(n),
    Title: `Synthetic QID ${ruleOf(n)}`,
    'Vuln Status': 'Active',
    Type: 'Vuln',
    Severity: 1 + (n % 5),
    Port: portOf(n),
    Protocol: 'tcp',
    'First Detected': '05/13/2021 07:36:58',
    'Last Detected': '05/25/2021 07:36:58',
    'Times Detected': 3,
    'CVE ID': cve(n),
    'CVSS3 Base': '9.8 (AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H)',
    Threat: text(1000),
    Impact: text(300),
    Solution: text(300),
    'PCI Vuln': 'yes',
    Category: 'Windows',
  }),
);

/** One OpenVAS `<result>` as `openvas/many_vuln.xml` writes it. */
const openvasResult = (n: number) =>
  `<result id="${n}"><name>Synthetic NVT ${ruleOf(n)}</name><host>${ipOf(hostOf(n))}<asset asset_id="a${hostOf(n)}"/>` +
  `<hostname>host-${hostOf(n)}</hostname></host><port>${portOf(n)}/tcp</port>` +
  `<nvt oid="1.3.6.1.4.1.25623.1.0.${100_000 + ruleOf(n)}"><type>nvt</type><name>Synthetic NVT ${ruleOf(n)}</name>` +
  `<family>General</family><cvss_base>7.5</cvss_base><tags>cvss_base_vector=AV:N/AC:L/Au:N/C:P/I:P/A:P|summary=${text(400)}` +
  `|insight=${text(300)}|solution_type=VendorFix</tags><solution type="VendorFix">${text(200)}</solution>` +
  `<refs><ref type="cve" id="${cve(n)}"/><ref type="url" id="${urls(n)[0] as string}"/></refs></nvt>` +
  `<threat>${WORDS[n % 4] as string}</threat><severity>7.5</severity><description>${text(300)}</description></result>`;

/** Qualys's XML scan report: hosts of HOSTS_EVERY detections, then the glossary of their QIDs. */
const qualysHostOpen = (host: number) =>
  `<HOST><IP>${ipOf(host)}</IP><TRACKING_METHOD>IP</TRACKING_METHOD><DNS><![CDATA[${fqdnOf(host)}]]></DNS>` +
  `<NETBIOS><![CDATA[HOST-${host}]]></NETBIOS><OPERATING_SYSTEM><![CDATA[Linux 2.6]]></OPERATING_SYSTEM><VULN_INFO_LIST>`;
const qualysDetection = (n: number) =>
  (n > 0 && n % HOSTS_EVERY === 0 ? `</VULN_INFO_LIST></HOST>${qualysHostOpen(hostOf(n))}` : '') +
  `<VULN_INFO><QID id="qid_${90_000 + ruleOf(n)}">${90_000 + ruleOf(n)}</QID><TYPE>Vuln</TYPE><PORT>${portOf(n)}</PORT>` +
  `<SERVICE>http</SERVICE><PROTOCOL>tcp</PROTOCOL><SSL>false</SSL><RESULT format="table"><![CDATA[${text(300)}]]></RESULT>` +
  `<FIRST_FOUND>2026-02-01T09:00:00Z</FIRST_FOUND><LAST_FOUND>${isoAt(n).replace('.000', '')}</LAST_FOUND>` +
  `<TIMES_FOUND>3</TIMES_FOUND><VULN_STATUS>Active</VULN_STATUS><CVSS_FINAL>-</CVSS_FINAL><CVSS3_FINAL>8.2</CVSS3_FINAL></VULN_INFO>`;
const qualysGlossary = () =>
  Array.from(
    { length: HOSTS_EVERY },
    (_, rule) =>
      `<VULN_DETAILS id="qid_${90_000 + rule}"><QID id="qid_${90_000 + rule}">${90_000 + rule}</QID>` +
      `<TITLE><![CDATA[Synthetic QID ${rule}]]></TITLE><SEVERITY>${1 + (rule % 5)}</SEVERITY><CATEGORY>General remote services</CATEGORY>` +
      `<THREAT><![CDATA[${text(1000)}<P>]]></THREAT><IMPACT><![CDATA[${text(300)}<P>]]></IMPACT>` +
      `<SOLUTION><![CDATA[${text(300)}<BR>]]></SOLUTION><PCI_FLAG>1</PCI_FLAG>` +
      `<CVSS3_SCORE><CVSS3_BASE>9.8 (AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H)</CVSS3_BASE></CVSS3_SCORE>` +
      `<CVE_ID_LIST><CVE_ID><ID><![CDATA[${cve(rule)}]]></ID></CVE_ID></CVE_ID_LIST></VULN_DETAILS>`,
  ).join('');

const SHAPES = {
  trivy: jsonShape(
    '{"SchemaVersion":2,"CreatedAt":"2026-03-02T09:00:00Z","ArtifactName":"synthetic:latest","ArtifactType":"container_image",' +
      '"Results":[{"Target":"synthetic:latest (debian 12.5)","Class":"os-pkgs","Type":"debian","Vulnerabilities":[',
    trivyRecord,
    ']}]}\n',
  ),
  grype: jsonShape(
    '{"matches":[',
    grypeRecord,
    '],"source":{"type":"image","target":{"userInput":"synthetic:latest"}},' +
      '"descriptor":{"name":"grype","version":"0.80.0","timestamp":"2026-03-02T09:00:00Z"}}\n',
  ),
  osv: jsonShape(
    '{"results":[{"source":{"path":"/src/app/package-lock.json","type":"lockfile"},"packages":[',
    osvRecord,
    ']}]}\n',
  ),
  json: jsonShape('{"findings":[', ownRecord, ']}\n'),
  inspector2: jsonShape('{"findings":[', inspectorRecord, ']}\n'),
  asff: jsonShape('{"Findings":[', asffRecord, ']}\n'),
  csv: TENABLE_CSV,
  'tenable-vm-csv': TENABLE_VM_CSV,
  'openvas-csv': OPENVAS_CSV,
  'qualys-csv': QUALYS_CSV,
  'openvas-xml': {
    prefix:
      '<?xml version="1.0" encoding="UTF-8"?>\n<report id="synthetic" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5" extension="xml">' +
      '<report id="synthetic"><scan_start>2026-03-02T09:00:00Z</scan_start><results start="1">',
    record: openvasResult,
    separator: '',
    suffix: '</results></report></report>\n',
  },
  'qualys-xml': {
    prefix:
      '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://qualysguard.qualys.com/asset_data_report.dtd">\n' +
      `<ASSET_DATA_REPORT><HEADER><GENERATION_DATETIME>2026-03-02T10:00:00Z</GENERATION_DATETIME></HEADER><HOST_LIST>${qualysHostOpen(0)}`,
    record: qualysDetection,
    separator: '',
    get suffix() {
      return `</VULN_INFO_LIST></HOST></HOST_LIST><GLOSSARY><VULN_DETAILS_LIST>${qualysGlossary()}</VULN_DETAILS_LIST></GLOSSARY></ASSET_DATA_REPORT>\n`;
    },
  },
} as const;

export type SyntheticFormat = keyof typeof SHAPES;
/** Every format with a generator here (Nessus v2: synthetic-nessus.ts). */
export const SYNTHETIC_FORMATS = Object.keys(SHAPES) as SyntheticFormat[];

/** Writes a report of about `bytes` to `path`; resolves with the number of records (findings) written. */
export async function writeSyntheticReport(path: string, format: SyntheticFormat, bytes: number): Promise<number> {
  const shape = SHAPES[format];
  const out = createWriteStream(path);
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(shape.prefix);
  let written = shape.prefix.length;
  let records = 0;
  while (written < bytes) {
    const record = (records > 0 ? shape.separator : '') + shape.record(records);
    await write(record);
    written += record.length;
    records += 1;
  }
  await write(shape.suffix);
  out.end();
  await once(out, 'finish');
  return records;
}
