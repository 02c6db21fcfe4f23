/**
 * Synthetic Trivy, Grype and OSV-Scanner reports of any size, for `npm run bench:import`: the shape of
 * each scanner's JSON with realistic text lengths, every record a distinct finding (the package
 * version differs), written as a stream. Deterministic: the same size gives the same file.
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

const SHAPES = {
  trivy: {
    prefix:
      '{"SchemaVersion":2,"CreatedAt":"2026-03-02T09:00:00Z","ArtifactName":"synthetic:latest","ArtifactType":"container_image",' +
      '"Results":[{"Target":"synthetic:latest (debian 12.5)","Class":"os-pkgs","Type":"debian","Vulnerabilities":[',
    record: trivyRecord,
    suffix: ']}]}\n',
  },
  grype: {
    prefix: '{"matches":[',
    record: grypeRecord,
    suffix:
      '],"source":{"type":"image","target":{"userInput":"synthetic:latest"}},' +
      '"descriptor":{"name":"grype","version":"0.80.0","timestamp":"2026-03-02T09:00:00Z"}}\n',
  },
  osv: {
    prefix: '{"results":[{"source":{"path":"/src/app/package-lock.json","type":"lockfile"},"packages":[',
    record: osvRecord,
    suffix: ']}]}\n',
  },
} as const;

export type SyntheticJsonFormat = keyof typeof SHAPES;
export const SYNTHETIC_JSON_FORMATS = Object.keys(SHAPES) as SyntheticJsonFormat[];

/** Writes a report of about `bytes` to `path`; resolves with the number of records (findings) written. */
export async function writeSyntheticReport(path: string, format: SyntheticJsonFormat, bytes: number): Promise<number> {
  const shape = SHAPES[format];
  const out = createWriteStream(path);
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(shape.prefix);
  let written = shape.prefix.length;
  let records = 0;
  while (written < bytes) {
    const record = (records > 0 ? ',' : '') + JSON.stringify(shape.record(records));
    await write(record);
    written += record.length;
    records += 1;
  }
  await write(shape.suffix);
  out.end();
  await once(out, 'finish');
  return records;
}
