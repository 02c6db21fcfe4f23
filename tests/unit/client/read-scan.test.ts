import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDueDays, priorityOf, vulnIdOf } from '../../../client/scan/mapping';
import { formatOf, MalformedExportError, NotAScanExportError } from '../../../client/scan/read-scan';
import { IMPORT_LIMITS } from '../../../client/scan/input';
import { parseJsonFindings } from '../../../client/scan/json-findings';
import { newParseStats } from '../../../client/scan/records';
import { JSON_SAMPLE, chunked, readAll } from '../../support/scans';
import { readText } from '../../support/scan-readers';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'read-scan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = async (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

describe('formatOf', () => {
  it('recognises formats by their content, past a BOM and blanks', () => {
    expect(formatOf(Buffer.from('\uFEFF  <?xml version="1.0"?><NessusClientData_v2>')).name).toBe('nessus');
    expect(formatOf(Buffer.from('\n[{"VulnID":1}]')).name).toBe('json');
    expect(formatOf(Buffer.from('Plugin,Plugin Name,Host\n')).name).toBe('csv');
  });

  it('refuses content of no known format with the formats of its family, unless --format names one', () => {
    expect(() => formatOf(Buffer.from('{"name":"package"}'))).toThrow(
      /^its content matches no format push reads; as JSON it could be one of .*json \(force one with --format NAME\)$/,
    );
    expect(() => formatOf(Buffer.from('<html/>'))).toThrow(/as XML it could be one of nessus/);
    expect(() => formatOf(Buffer.from('a,b\n1,2\n'))).toThrow(/as CSV it could be one of csv/);
    expect(formatOf(Buffer.from('a,b\n1,2\n'), 'csv').name).toBe('csv');
  });

  it('says an empty or binary file is not a scan export', () => {
    expect(() => formatOf(Buffer.alloc(0))).toThrow(NotAScanExportError);
    expect(() => formatOf(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]))).toThrow('binary');
  });
});

describe('JSON findings', () => {
  it('reads {"findings": [...]}, fills the missing Org and validates with the API schema', async () => {
    const { records, stats } = await readAll(JSON_SAMPLE);
    expect(stats.items).toBe(2);
    expect(records.map((record) => [record.ok, record.finding.VulnID, record.finding.Org])).toEqual([
      [true, 'json-1', 'org1'],
      [true, 'json-2', 'org1'],
    ]);
  });

  it('reads one object or an array, and gives the schema reason for an invalid finding', async () => {
    const one = await readAll(
      await file(
        'one.json',
        JSON.stringify({
          VulnID: 'a',
          AssetName: 'h',
          DueDate: '2026-01-01',
          PluginId: 1,
          PluginName: 'p',
          Priority: 'P1',
        }),
      ),
    );
    expect(one.records.map((record) => record.ok)).toEqual([true]);
    const list = await readAll(
      await file(
        'list.json',
        JSON.stringify([
          {
            VulnID: 'b',
            Org: 'org2',
            AssetName: 'h',
            DueDate: '2026-02-30',
            PluginId: 1,
            PluginName: 'p',
            Priority: 'P1',
          },
          { VulnID: 'c', Extra: 1 },
        ]),
      ),
    );
    expect(list.records.map((record) => (record.ok ? 'ok' : record.reason))).toEqual([
      'DueDate: must be a real calendar date',
      'AssetName: is required; DueDate: is required; PluginName: is required',
    ]);
  });

  it('says JSON that holds no findings is not a scan export, and broken JSON is malformed', async () => {
    await expect(readAll(await file('other.json', '{"name":"package"}'))).rejects.toThrow(NotAScanExportError);
    await expect(readAll(await file('broken.json', '{"findings": [}'))).rejects.toThrow(MalformedExportError);
    await expect(readAll(await file('cut.json', '{"findings": ['))).rejects.toThrow('the file is truncated');
  });
});

describe('JSON findings, streamed', () => {
  const finding = (id: string, extra: Record<string, unknown> = {}) => ({
    VulnID: id,
    AssetName: 'h',
    DueDate: '2026-01-01',
    PluginId: 1,
    PluginName: 'p',
    Priority: 'P1',
    ...extra,
  });
  const read = (text: string) =>
    readText((input, options, stats) => parseJsonFindings(input, options.org, stats), text, 'json');

  it('yields each finding of a large file as it is read, never the whole document', async () => {
    const entries = Array.from({ length: 3000 }, (_, index) => JSON.stringify(finding(`s-${index}`)));
    const text = `{"note": "ours", "findings": [${entries.join(',')}]}`;
    const stats = newParseStats();
    const iterator = parseJsonFindings(chunked(text, 4096), 'org1', stats);
    // The first finding comes after the first chunks, long before the document ends.
    const first = await iterator.next();
    expect(first.value).toMatchObject({ finding: { VulnID: 's-0', Org: 'org1' }, where: 'finding 1' });
    expect(stats.items).toBeLessThan(10);
    let count = 1;
    for await (const record of iterator) count += record === undefined ? 0 : 1;
    expect([count, stats.items]).toEqual([3000, 3000]);
  });

  it('reads one finding, an array, the wrapper and an empty run; counts an entry that is no object', async () => {
    expect((await read(JSON.stringify(finding('one')))).findings.map((f) => f.VulnID)).toEqual(['one']);
    const list = await read(JSON.stringify([finding('a'), 7, finding('b', { Org: 'org2' })]));
    expect(list.findings.map((f) => [f.VulnID, f.Org])).toEqual([
      ['a', 'org1'],
      ['b', 'org2'],
    ]);
    expect(list.stats.skipped).toEqual([{ where: 'finding 2', reason: 'is not a JSON object' }]);
    expect((await read('{"findings": []}')).findings).toEqual([]);
    expect((await read('[]')).findings).toEqual([]);
    await expect(read('{"name": "package"}')).rejects.toThrow(NotAScanExportError);
    await expect(read('"text"')).rejects.toThrow(NotAScanExportError);
  });

  it("refuses a finding larger than a request, deep nesting and a truncated file, as the scanners' JSON", async () => {
    const big = JSON.stringify([finding('big', { Description: 'x'.repeat(IMPORT_LIMITS.maxRecordBytes) })]);
    await expect(read(big)).rejects.toMatchObject({ kind: 'record-too-large' });
    const bigSingle = JSON.stringify(
      finding('big', {
        Description: 'x'.repeat(IMPORT_LIMITS.maxRecordBytes / 2),
        Solution: 'y'.repeat(IMPORT_LIMITS.maxRecordBytes / 2),
      }),
    );
    await expect(read(bigSingle)).rejects.toMatchObject({ kind: 'record-too-large' });
    const deep = `{"findings": [${'['.repeat(IMPORT_LIMITS.maxDepth)}${']'.repeat(IMPORT_LIMITS.maxDepth)}]}`;
    await expect(read(deep)).rejects.toMatchObject({ kind: 'too-deep' });
    const whole = JSON.stringify({ findings: [finding('a'), finding('b')] });
    await expect(read(whole.slice(0, -10))).rejects.toMatchObject({ kind: 'truncated' });
  });

  it('refuses invalid UTF-8 in a JSON findings file', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"findings": [{"VulnID": "a'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}]}'),
    ]);
    await expect(readAll(await file('bad-utf8.json', bytes))).rejects.toMatchObject({ kind: 'invalid-utf8' });
  });
});

describe('mapping rules', () => {
  it('parses --due-days over the defaults and refuses nonsense', () => {
    expect(parseDueDays('critical=7, info=30')).toEqual({ CRITICAL: 7, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: 30 });
    expect(() => parseDueDays('urgent=3')).toThrow('--due-days');
    expect(() => parseDueDays('high=-1')).toThrow('--due-days');
  });

  it('turns scanner severities into priorities our severity table knows', () => {
    expect(['4', '3', '2', '1', '0', 'None', 'critical'].map(priorityOf)).toEqual([
      'Critical',
      'High',
      'Medium',
      'Low',
      'Info',
      'Info',
      'Critical',
    ]);
  });

  it('derives VulnID from asset (any case), plugin, port and protocol only', () => {
    const id = vulnIdOf('nessus', 'Web-1.Example.com', 10, 443, 'tcp');
    expect(id).toMatch(/^nessus-10-tcp443-[0-9a-f]{24}$/);
    expect(vulnIdOf('nessus', ' web-1.example.com ', 10, 443, 'tcp')).toBe(id);
    expect(
      new Set([
        id,
        vulnIdOf('nessus', 'web-2.example.com', 10, 443, 'tcp'),
        vulnIdOf('nessus', 'web-1.example.com', 10, 443, 'udp'),
        vulnIdOf('nessus', 'web-1.example.com', 10, 80, 'tcp'),
      ]).size,
    ).toBe(4);
  });
});
