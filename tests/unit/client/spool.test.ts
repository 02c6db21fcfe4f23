import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../../functions/shared/core/finding-schema';
import { FindingMerger } from '../../../client/scan/mapping';
import { keyHash, Spool, SpooledFindingMerger } from '../../../client/scan/spool';
import { readQualysXml } from '../../../client/scan/qualys-xml';
import { newParseStats } from '../../../client/scan/records';
import { fixtureText, readText } from '../../support/scan-readers';
import { chunked, MAPPING } from '../../support/scans';

/** Each test gets its own temporary directory as the system's, so what a spool leaves there is seen. */
let temp: string;
beforeEach(() => {
  temp = mkdtempSync(join(os.tmpdir(), 'spool-test-'));
  jest.spyOn(os, 'tmpdir').mockReturnValue(temp);
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(temp, { recursive: true, force: true });
});

const finding = (id: string, fields: Partial<Finding> = {}): Partial<Finding> => ({
  VulnID: id,
  AssetName: `host-${id}`,
  PluginName: 'A rule',
  Description: 'The same text on every host',
  Solution: undefined,
  Evidence: `seen on ${id}`,
  ...fields,
});

describe('Spool', () => {
  it('writes to a 0600 file in a 0700 directory of its own and removes both on close', () => {
    const spool = new Spool<{ n: number }>();
    expect(readdirSync(temp)).toEqual([]);
    spool.write({ n: 1 });
    expect([...spool.read()]).toEqual([{ n: 1 }]);
    const [dir] = readdirSync(temp);
    expect(dir).toMatch(/^vuln-import-/);
    expect(statSync(join(temp, dir as string)).mode & 0o777).toBe(0o700);
    expect(statSync(join(temp, dir as string, 'records')).mode & 0o777).toBe(0o600);
    spool.close();
    expect(readdirSync(temp)).toEqual([]);
    expect(() => spool.write({ n: 2 })).toThrow('closed');
  });

  it('gives back every record exactly, in order, as often as read: undefined, Dates, Maps, records past its buffer', () => {
    const spool = new Spool<unknown>();
    const big = 'x'.repeat(3 * 1024 * 1024);
    const records = [
      { a: undefined, b: new Date('2024-05-01T10:00:00Z'), c: new Map([['k', ['v']]]) },
      ...Array.from({ length: 5000 }, (_, index) => ({ index, text: 'é'.repeat(index % 300) })),
      big,
      [1, 2, 3],
    ];
    for (const record of records) spool.write(record);
    expect(spool.count).toBe(records.length);
    const back = [...spool.read()];
    expect(back).toStrictEqual(records);
    expect(Object.keys(back[0] as object)).toEqual(['a', 'b', 'c']);
    expect([...spool.read()]).toHaveLength(records.length);
    spool.close();
  });

  it('creates no file when nothing is written', () => {
    const spool = new Spool<number>();
    expect([...spool.read()]).toEqual([]);
    spool.close();
    expect(readdirSync(temp)).toEqual([]);
  });
});

describe('SpooledFindingMerger', () => {
  const inputs = () => [
    finding('a'),
    finding('b', { Cves: ['CVE-2024-0001'] }),
    finding('a', { Evidence: 'again on a', Cves: ['CVE-2024-0002'] }),
    finding('c', { PluginName: 'Another rule' }),
    finding('b', { Cves: ['CVE-2024-0003'] }),
    finding('a', { Evidence: 'seen on a' }),
  ];

  it('yields what FindingMerger yields: merged by VulnID, in first-seen order, every field as it was', () => {
    const memory = new FindingMerger();
    const spooled = new SpooledFindingMerger();
    for (const item of inputs()) memory.add(item);
    for (const item of inputs()) spooled.add(item);
    const expected = memory.drain();
    const got = [...spooled.drain()];
    expect(got).toStrictEqual(expected);
    expect(got.map((item) => item.VulnID)).toEqual(['a', 'b', 'c']);
    expect(got[1]?.Cves).toEqual(['CVE-2024-0001', 'CVE-2024-0003']);
    expect(readdirSync(temp)).toEqual([]);
  });

  it.each([
    ['every VulnID sharing one hash', () => 1],
    ['VulnIDs sharing a hash with others that repeat', (id: string) => (id === 'c' ? keyHash('a') : keyHash(id))],
  ])('stays exact with %s: two VulnIDs are two findings', (_, hashOf) => {
    const memory = new FindingMerger();
    const spooled = new SpooledFindingMerger(hashOf);
    for (const item of [...inputs(), finding('d'), finding('c')]) memory.add(item);
    for (const item of [...inputs(), finding('d'), finding('c')]) spooled.add(item);
    expect([...spooled.drain()]).toStrictEqual(memory.drain());
  });

  it('keeps a hash of each VulnID, never 0, the same on every run', () => {
    const hashes = Array.from({ length: 10_000 }, (_, index) =>
      keyHash(`qualys-${index.toString(16).padStart(24, '0')}`),
    );
    expect(hashes.every((hash) => Number.isSafeInteger(hash) && hash > 0)).toBe(true);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(keyHash('qualys-abc')).toBe(keyHash('qualys-abc'));
  });

  it('removes its file when the reader stops early or fails', () => {
    const merger = new SpooledFindingMerger();
    for (const item of inputs()) merger.add(item);
    expect(readdirSync(temp)).toHaveLength(0); // still in the write buffer
    const drain = merger.drain();
    drain.next();
    expect(readdirSync(temp)).toHaveLength(1);
    drain.return(undefined);
    expect(readdirSync(temp)).toEqual([]);
  });
});

describe('a reader that spools (Qualys XML)', () => {
  it('leaves no temporary file behind, read whole or abandoned', async () => {
    const report = fixtureText('qualys-xml', 'Qualys_Sample_Report.xml');
    const { findings } = await readText(readQualysXml, report, 'qualys');
    expect(findings).toHaveLength(301);
    expect(readdirSync(temp)).toEqual([]);
    const reader = readQualysXml(chunked(report, 997), { ...MAPPING, scanner: 'qualys' }, newParseStats());
    await reader.next();
    await reader.return(undefined);
    expect(readdirSync(temp)).toEqual([]);
  });
});
