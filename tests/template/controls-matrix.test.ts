/** docs/controls.md and the template tests name each other: no row without a test, no test without a row. */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT, readProjectFile } from './support';

const TEST_DIRECTORY = 'tests/template';
const ROW = /^\| ([A-Z]+ \d+\.\d+) \| (.+?) \| (.+?) \| `(tests\/template\/[\w.-]+\.test\.ts)` › (.+) \|$/;

interface Row {
  id: string;
  file: string;
  test: string;
}

const rows: Row[] = readProjectFile('docs/controls.md')
  .split('\n')
  .map((line) => ROW.exec(line))
  .filter((match): match is RegExpExecArray => match !== null)
  .map((match) => ({ id: match[1] as string, file: match[4] as string, test: (match[5] as string).trim() }));

/** The names of the tests a file declares (`test('…'`, quotes unescaped). */
function testNames(file: string): string[] {
  const source = readProjectFile(file);
  return [...source.matchAll(/\btest\((['"`])((?:\\.|(?!\1)[^\\])*)\1/g)].map((match) =>
    (match[2] as string).replace(/\\(.)/g, '$1'),
  );
}

const testFiles = readdirSync(resolve(PROJECT_ROOT, TEST_DIRECTORY))
  .filter((name) => name.endsWith('.test.ts') && name !== 'controls-matrix.test.ts')
  .map((name) => `${TEST_DIRECTORY}/${name}`);

test('every row of docs/controls.md names a test that exists, under a unique control id', () => {
  expect(rows.length).toBeGreaterThanOrEqual(50);
  expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
  for (const row of rows) {
    expect([row.id, testFiles]).toEqual([row.id, expect.arrayContaining([row.file])]);
    expect([row.id, testNames(row.file)]).toEqual([row.id, expect.arrayContaining([row.test])]);
    // A test named after a control carries that control's id.
    if (/^[A-Z]+ \d+\.\d+ /.test(row.test)) expect(row.test.startsWith(`${row.id} `)).toBe(true);
  }
});

test('every template test is a row of docs/controls.md', () => {
  const documented = new Set(rows.map((row) => `${row.file} › ${row.test}`));
  const missing = testFiles
    .flatMap((file) => testNames(file).map((name) => `${file} › ${name}`))
    .filter((entry) => !documented.has(entry));
  expect(missing).toEqual([]);
});
