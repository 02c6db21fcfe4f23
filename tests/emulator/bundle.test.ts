/** Every function bundles with the template's esbuild settings and its bundle loads and exports the handler. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildFunctions, esbuildOptions } from '../../local/lambda/bundle';
import { loadTemplate } from '../../local/cloudformation/template';

const outRoot = mkdtempSync(join(tmpdir(), 'bundles-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** The variables every function gets from the template's Globals (POWERTOOLS_SERVICE_NAME among them). */
const globalVariables = () =>
  (loadTemplate().Globals?.Function?.Environment as { Variables: Record<string, string> }).Variables;

test('every function bundles and exports handler', async () => {
  const built = await buildFunctions(outRoot);
  expect(built.sort()).toEqual([
    'AuthorizeFunction',
    'CloseRunFunction',
    'FindingEventsFunction',
    'GetFindingHistoryFunction',
    'GetFindingsFunction',
    'GetOrgSummaryFunction',
    'GetScanRunFunction',
    'NormalizeFunction',
    'ScanRunsFunction',
    'TriageFindingsFunction',
    'ValidateFunction',
    'WriteFunction',
  ]);
  // Load the bundles in a plain Node process, as Lambda would, not through jest's module system.
  const script = `for (const id of ${JSON.stringify(built)}) { const m = require(${JSON.stringify(outRoot)} + '/' + id + '/handler.js'); if (typeof m.handler !== 'function') throw new Error(id); } console.log('loaded');`;
  const output = execFileSync(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH,
      ...globalVariables(),
      FINDINGS_TABLE_NAME: 'FindingsTable',
      AUTHZ_TABLE_NAME: 'AuthzTable',
      SCAN_RUNS_TABLE_NAME: 'ScanRunsTable',
      IDEMPOTENCY_TABLE_NAME: 'ScanRunsTable',
      HISTORY_TABLE_NAME: 'FindingHistoryTable',
      SUMMARY_TABLE_NAME: 'OrgSummaryTable',
      PAGE_TOKEN_SECRET_ARN: 'PageTokenSecret',
      AWS_REGION: 'us-east-1',
    },
    encoding: 'utf8',
  });
  expect(output.trim()).toBe('loaded');
}, 60000);

test('MainFields reaches esbuild as sam build passes it (--main-fields=module,main)', () => {
  const options = esbuildOptions(
    'Fn',
    { EntryPoints: ['functions/validate/handler.ts'], MainFields: 'module,main' },
    outRoot,
  );
  expect(options.mainFields).toEqual(['module', 'main']);
  // Absent, esbuild keeps its own default for the node platform (main, module).
  expect(esbuildOptions('Fn', { EntryPoints: ['functions/validate/handler.ts'] }, outRoot)).not.toHaveProperty(
    'mainFields',
  );
});
