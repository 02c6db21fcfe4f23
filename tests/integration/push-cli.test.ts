/**
 * The `npm run push` command as a user runs it (a child process; tests never import cli/): a dry
 * run sends nothing and prints the bodies, a file that is not a scan export is one line and exit 2,
 * a truncated one exit 4, `-` reads standard input, usage errors say what is missing.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { readFile } from 'node:fs/promises';
import { REFUSAL_EXIT_CODES } from '../../client/scan/records';
import { CSV_SAMPLE, NESSUS_SAMPLE, TRIVY_SAMPLES } from '../support/scans';

const PACKAGE_JSON = join(PROJECT_ROOT, 'package.json');
const NO_FORMAT =
  'its content matches no format push reads; as JSON it could be one of trivy, grype, osv, json (force one with --format NAME)';

function push(args: string[], input?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'cli', 'push.ts'), ...args],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
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
  expect(result.stderr.trim().split('\n')).toEqual([`push: ${notJson}: not a scan export: ${NO_FORMAT}`]);
  const dry = await push(['--org', 'org1', '--dry-run', NESSUS_SAMPLE, join(PROJECT_ROOT, 'package.json')]);
  expect(dry.code).toBe(2);
  expect(dry.stdout).toBe('');
  expect(dry.stderr.trim().split('\n')).toEqual([
    `push: ${join(PROJECT_ROOT, 'package.json')}: not a scan export: ${NO_FORMAT}`,
  ]);
});

test("- reads standard input: a Trivy report piped in is recognised, its scanner is the run's", async () => {
  const report = await readFile(TRIVY_SAMPLES.schema2);
  const result = await push(['--org', 'org1', '--dry-run', '-'], report);
  expect(result.code).toBe(0);
  expect(result.stderr).toContain('standard input: trivy, 5 items, 5 findings\n');
  const findings = result.stdout
    .trim()
    .split('\n')
    .flatMap((line) => (JSON.parse(line) as { findings: { Scanner: string }[] }).findings);
  expect(findings.map((finding) => finding.Scanner)).toEqual(Array(5).fill('trivy'));
});

test('a truncated export is one line with its own exit code, and nothing is sent', async () => {
  const report = await readFile(TRIVY_SAMPLES.legacy);
  const result = await push(
    // Readable files as certificate and key: nothing is sent, so they are never used.
    ['--url', 'https://127.0.0.1:9', '--cert', PACKAGE_JSON, '--key', PACKAGE_JSON, '--org', 'org1', '-'],
    report.subarray(0, 50_000),
  );
  expect(result.code).toBe(REFUSAL_EXIT_CODES.truncated);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(/^push: standard input: ends inside its JSON document \(at .+\): the file is truncated$/),
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
  expect([none.code, none.stderr.split('\n')[0]]).toEqual([
    2,
    'push: give at least one FILE (or - for standard input)',
  ]);
});
