/**
 * What the import framework refuses for every format, once (read-scan.ts, input.ts, json-stream.ts,
 * xml-stream.ts, csv-stream.ts): a DTD, nesting too deep, a record larger than a whole request, invalid
 * UTF-8 and a truncated file. Each refusal is one sentence with its own kind (and so its own exit code
 * of `npm run push`), raised while the file is checked, before anything could be sent.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMPORT_LIMITS } from '../../../client/scan/input';
import { jsonKeyPaths } from '../../../client/scan/json-stream';
import {
  MalformedExportError,
  NotAScanExportError,
  REFUSAL_EXIT_CODES,
  exitCodeOf,
} from '../../../client/scan/records';
import { CSV_SAMPLE, MAPPING, NESSUS_SAMPLE, TRIVY_SAMPLES, readAll } from '../../support/scans';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostile-exports-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = async (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

/** The refusal reading `content` raises: its class, kind and message. */
async function refusal(name: string, content: string | Buffer) {
  try {
    await readAll(await file(name, content));
  } catch (error) {
    return {
      error: (error as Error).name,
      kind: (error as MalformedExportError).kind,
      message: (error as Error).message,
      exitCode: exitCodeOf(error),
    };
  }
  throw new Error(`${name} was read without a refusal`);
}

const trivy = (vulnerability: unknown) =>
  JSON.stringify({
    SchemaVersion: 2,
    ArtifactName: 'alpine:3.19',
    Results: [{ Target: 'alpine:3.19 (alpine 3.19.1)', Type: 'alpine', Vulnerabilities: [vulnerability] }],
  });
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

it('gives every kind of refusal its own exit code, none of them 0 or 1', () => {
  const codes = Object.values(REFUSAL_EXIT_CODES);
  expect(new Set(codes).size).toBe(codes.length);
  expect(codes.every((code) => code >= 2)).toBe(true);
});

describe('XML', () => {
  it('refuses a DTD in any XML file, whatever its root, before a reader runs', async () => {
    const dtd =
      '<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<report>&b;</report>';
    expect(await refusal('dtd.xml', dtd)).toEqual({
      error: 'MalformedExportError',
      kind: 'xml-dtd',
      message: 'has a DOCTYPE; no export has one, and DTDs are never processed',
      exitCode: REFUSAL_EXIT_CODES['xml-dtd'],
    });
  });
  it('lets through only the external DOCTYPE Qualys writes, on its own root, and reads the report', async () => {
    const external = (root: string) =>
      `<?xml version="1.0"?>\n<!DOCTYPE ${root} SYSTEM "https://qualysguard.qualys.eu/asset_data_report.dtd">\n<${root}></${root}>`;
    expect(await refusal('nessus-dtd.nessus', external('NessusClientData_v2'))).toMatchObject({ kind: 'xml-dtd' });
    expect(await refusal('report-dtd.xml', external('report'))).toMatchObject({ kind: 'xml-dtd' });
    const { records, stats } = await readAll(await file('qualys.xml', external('ASSET_DATA_REPORT')), {
      ...MAPPING,
      format: 'qualys-xml',
    });
    expect([records.length, stats.items]).toEqual([0, 0]);
    const subset = '<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://q/a.dtd" [<!ENTITY x SYSTEM "file:///etc/passwd">]>';
    expect(await refusal('qualys-subset.xml', `${subset}<ASSET_DATA_REPORT>&x;</ASSET_DATA_REPORT>`)).toMatchObject({
      kind: 'xml-dtd',
      exitCode: REFUSAL_EXIT_CODES['xml-dtd'],
    });
  });

  it('refuses elements nested deeper than the limit', async () => {
    const deep = `<NessusClientData_v2>${'<a>'.repeat(IMPORT_LIMITS.maxDepth + 1)}${'</a>'.repeat(IMPORT_LIMITS.maxDepth + 1)}</NessusClientData_v2>`;
    expect(await refusal('deep.nessus', deep)).toMatchObject({ kind: 'too-deep', exitCode: 6 });
  });

  it('refuses a Nessus export cut short as truncated', async () => {
    const text = await readFile(NESSUS_SAMPLE, 'utf8');
    expect(await refusal('cut.nessus', text.slice(0, Math.floor(text.length / 2)))).toEqual({
      error: 'MalformedExportError',
      kind: 'truncated',
      message: 'ends inside its root element: the file is truncated',
      exitCode: 4,
    });
  });
});

describe('JSON', () => {
  it('refuses arrays nested deeper than the limit inside a record, without building it', async () => {
    expect(await refusal('deep.json', trivy({ VulnerabilityID: 'CVE-2026-0001', x: JSON.parse(nested(80)) }))).toEqual({
      error: 'MalformedExportError',
      kind: 'too-deep',
      message: `nests arrays and objects more than ${IMPORT_LIMITS.maxDepth} levels deep; no export does`,
      exitCode: 6,
    });
    // Recognition reads the start of a file with the same scanner and stops at the depth limit too.
    expect(jsonKeyPaths(`{"a":${nested(100_000)}}`)).toEqual(new Set(['a']));
  });

  it('refuses a record larger than a whole request', async () => {
    const huge = trivy({
      VulnerabilityID: 'CVE-2026-0001',
      PkgName: 'a',
      InstalledVersion: '1',
      Description: 'x'.repeat(300_000),
    });
    expect(await refusal('huge.json', huge)).toEqual({
      error: 'MalformedExportError',
      kind: 'record-too-large',
      message: `has a record over ${IMPORT_LIMITS.maxRecordBytes} bytes at Results[0].Vulnerabilities[0], larger than a whole request`,
      exitCode: 7,
    });
  });

  it('refuses a Trivy report cut short as truncated, and one with text after the document as malformed', async () => {
    const text = await readFile(TRIVY_SAMPLES.legacy, 'utf8');
    expect(await refusal('cut.json', text.slice(0, 100_000))).toMatchObject({
      kind: 'truncated',
      exitCode: 4,
      message: expect.stringMatching(/^ends inside its JSON document \(at \[0\]\.Vulnerabilities\[\d+\]/),
    });
    expect(await refusal('trailing.json', `${text}\n{}`)).toMatchObject({
      kind: 'malformed',
      message: 'is not valid JSON (more text after the document)',
      exitCode: 3,
    });
  });
});

describe('CSV', () => {
  it('refuses a row larger than a whole request, and a quote never closed as truncated', async () => {
    const header = 'Plugin ID,Plugin Name,Host,Description\n';
    expect(await refusal('huge.csv', `${header}1,a,h,"${'x'.repeat(300_000)}"\n`)).toMatchObject({
      kind: 'record-too-large',
      exitCode: 7,
    });
    const text = await readFile(CSV_SAMPLE, 'utf8');
    const cut = text.slice(0, text.indexOf('"', text.indexOf('\n')) + 20);
    expect(await refusal('cut.csv', cut)).toEqual({
      error: 'MalformedExportError',
      kind: 'truncated',
      message: 'ends inside a quoted cell: the file is truncated',
      exitCode: 4,
    });
  });
});

describe('UTF-8', () => {
  const invalid = Buffer.from([0xc3, 0x28]);

  it('refuses invalid UTF-8 in the start of a file', async () => {
    expect(
      await refusal(
        'start.json',
        Buffer.concat([Buffer.from('{"SchemaVersion": 2, "ArtifactName": "'), invalid, Buffer.from('"}')]),
      ),
    ).toEqual({
      error: 'MalformedExportError',
      kind: 'invalid-utf8',
      message: 'is not valid UTF-8 text; export it as UTF-8',
      exitCode: 8,
    });
  });

  it('refuses invalid UTF-8 far past the start, while reading, for every syntax', async () => {
    const padding = 'x'.repeat(100_000);
    const json = Buffer.concat([
      Buffer.from(
        trivy({ VulnerabilityID: 'CVE-2026-0001', PkgName: 'a', InstalledVersion: '1', Description: padding }).slice(
          0,
          -4,
        ),
      ),
      invalid,
      Buffer.from('"}]}]}'),
    ]);
    expect(await refusal('late.json', json)).toMatchObject({ kind: 'invalid-utf8', exitCode: 8 });
    const nessus = Buffer.concat([
      Buffer.from(`<NessusClientData_v2><!-- ${padding} `),
      invalid,
      Buffer.from(' --></NessusClientData_v2>'),
    ]);
    expect(await refusal('late.nessus', nessus)).toMatchObject({ kind: 'invalid-utf8' });
    const csv = Buffer.concat([
      Buffer.from(`Plugin ID,Plugin Name,Host\n1,"${padding}`),
      invalid,
      Buffer.from('",h\n'),
    ]);
    expect(await refusal('late.csv', csv)).toMatchObject({
      kind: 'invalid-utf8',
      message: expect.stringMatching(
        /^is not valid UTF-8 text \(an invalid byte sequence near byte \d+\); export it as UTF-8$/,
      ),
    });
  });
});

it('tells a file of no known format the formats of its family, with the not-an-export exit code', async () => {
  expect(await refusal('other.json', '{"name":"package","version":"1.0.0"}')).toEqual({
    error: 'NotAScanExportError',
    kind: 'not-an-export',
    message: expect.stringMatching(
      /^its content matches no format push reads; as JSON it could be one of trivy, grype, osv, inspector2, asff, json /,
    ),
    exitCode: 2,
  });
  await expect(readAll(await file('empty.json', '  \n'))).rejects.toThrow(NotAScanExportError);
});
