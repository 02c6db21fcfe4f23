/**
 * The `npm run push` command as a user runs it (a child process; tests never import cli/): a dry
 * run sends nothing and prints the bodies, a file that is not a scan export is one line and exit 2,
 * usage errors say what is missing.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { CSV_SAMPLE, NESSUS_SAMPLE } from '../support/scans';

function push(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'cli', 'push.ts'), ...args],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

test('--dry-run prints the request bodies it would send, within the limits, and needs no URL or certificate', async () => {
  const result = await push(['--org', 'org1', '--dry-run', NESSUS_SAMPLE, CSV_SAMPLE]);
  expect(result.code).toBe(0);
  const bodies = result.stdout.trim().split('\n');
  const findings = bodies.flatMap((line) => (JSON.parse(line) as { findings: { VulnID: string }[] }).findings);
  expect(findings).toHaveLength(52);
  for (const line of bodies) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(65_536);
  expect(result.stderr).toContain(
    `dry run: 52 parsed, 52 would be sent in ${bodies.length} batches of at most 100 findings and 65536 bytes, 0 invalid`,
  );
});

test('a file that is not a scan export is one line, exit 2, and nothing else is read or sent', async () => {
  const notJson = join(PROJECT_ROOT, 'package.json');
  // A real push (to a port nothing answers: sending anything would end in network failures, exit 1).
  const result = await push([
    '--url',
    'https://127.0.0.1:9',
    '--cert',
    notJson,
    '--key',
    notJson,
    '--org',
    'org1',
    NESSUS_SAMPLE,
    notJson,
  ]);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toEqual([
    `push: ${notJson}: not a scan export: is JSON but neither a finding, an array of findings nor {"findings": [...]}`,
  ]);
  const dry = await push(['--org', 'org1', '--dry-run', NESSUS_SAMPLE, join(PROJECT_ROOT, 'package.json')]);
  expect(dry.code).toBe(2);
  expect(dry.stdout).toBe('');
  expect(dry.stderr.trim().split('\n')).toEqual([
    `push: ${join(PROJECT_ROOT, 'package.json')}: not a scan export: is JSON but neither a finding, an array of findings nor {"findings": [...]}`,
  ]);
});

test('usage errors name what is missing or wrong', async () => {
  expect((await push(['--dry-run', NESSUS_SAMPLE])).stderr).toMatch(/^push: --org is required\n/);
  expect((await push(['--org', 'org1', '--batch', '101', '--dry-run', NESSUS_SAMPLE])).stderr).toMatch(
    /^push: --batch must be a whole number from 1 to 100\n/,
  );
  expect((await push(['--org', 'org1', '--due-days', 'soon=1', '--dry-run', NESSUS_SAMPLE])).stderr).toMatch(
    /^push: --due-days: "soon=1" is not severity=days/,
  );
  const none = await push(['--org', 'org1']);
  expect([none.code, none.stderr.split('\n')[0]]).toEqual([2, 'push: give at least one FILE']);
});
