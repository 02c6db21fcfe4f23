/** cfn-lint (which applies the SAM transform) is the judge of the template: no finding at all. */
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from './support';
import { requireTool } from '../support/tools';

test('cfn-lint finds nothing in template.yaml', () => {
  requireTool('cfn-lint', ['--version'], 'pip install cfn-lint (it applies the SAM transform)');
  const run = spawnSync('cfn-lint', ['template.yaml'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
  if (run.error) throw run.error;
  const findings = `${run.stdout}${run.stderr}`.trim();
  expect(findings).toBe('');
  expect(run.status).toBe(0);
});
