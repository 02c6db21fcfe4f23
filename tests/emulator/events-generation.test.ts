/**
 * `npm run events` is deterministic: run twice into the same folder it writes the same files, and
 * run over the committed events/ it reproduces them byte for byte (it keeps certificates that are
 * still valid and issues new ones only when they are missing or expiring).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEventFiles, EVENTS_DIR, writeEventFiles } from '../support/events';

const folders: string[] = [];
const temporaryFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'vuln-api-events-'));
  folders.push(dir);
  return dir;
};
const contents = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  );

afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

test('twice into an empty folder: the second run changes nothing', async () => {
  const dir = temporaryFolder();
  await writeEventFiles(dir);
  const first = contents(dir);
  await writeEventFiles(dir);
  expect(contents(dir)).toEqual(first);
  expect(Object.keys(first)).toEqual(
    expect.arrayContaining(['events-ca.pem', 'validate.json', 'get-findings.json', 'ingest-execution.json']),
  );
});

test('over the committed events/ it writes exactly what is committed', async () => {
  const dir = temporaryFolder();
  cpSync(EVENTS_DIR, dir, { recursive: true });
  await writeEventFiles(dir);
  expect(contents(dir)).toEqual(contents(EVENTS_DIR));
});

test('issues new certificates when the kept ones are missing, tampered with or expiring', async () => {
  const committed = contents(EVENTS_DIR);
  const dir = temporaryFolder();
  cpSync(EVENTS_DIR, dir, { recursive: true });
  // Missing CA.
  rmSync(join(dir, 'events-ca.pem'));
  expect((await buildEventFiles(dir))['events-ca.pem']).not.toBe(committed['events-ca.pem']);
  // A scanner certificate from another CA.
  cpSync(EVENTS_DIR, dir, { recursive: true });
  const other = await buildEventFiles(temporaryFolder());
  writeFileSync(join(dir, 'ingest-execution.json'), other['ingest-execution.json'] as string);
  expect((await buildEventFiles(dir))['events-ca.pem']).not.toBe(committed['events-ca.pem']);
  // Valid now, but less than a year left on 2044-06-01.
  expect((await buildEventFiles(EVENTS_DIR, new Date('2044-06-01T00:00:00Z')))['events-ca.pem']).not.toBe(
    committed['events-ca.pem'],
  );
  expect((await buildEventFiles(EVENTS_DIR, new Date('2026-01-01T00:00:00Z')))['events-ca.pem']).toBe(
    committed['events-ca.pem'],
  );
});
