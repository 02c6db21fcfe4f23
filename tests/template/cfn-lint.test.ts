/** cfn-lint (which applies the SAM transform) is the judge of every template file: no finding at all. */
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT, templateFiles } from './support';
import { requireTool } from '../support/tools';

test('cfn-lint finds nothing in template.yaml or any nested template', () => {
  requireTool('cfn-lint', ['--version'], 'pip install cfn-lint (it applies the SAM transform)');
  expect(templateFiles.length).toBeGreaterThan(1);
  const run = spawnSync('cfn-lint', templateFiles, { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
  if (run.error) throw run.error;
  const findings = `${run.stdout}${run.stderr}`.trim();
  expect(findings).toBe('');
  expect(run.status).toBe(0);
});
