/**
 * One filter expression for both faces: the annotation keys the handlers put are the ones the local views
 * filter on and docs/observability.md names, and the local API stage segment is named as the template's
 * X-Ray group selects it on AWS. Also `npm run traces` as the README shows it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalResolver } from '../../local/cloudformation/intrinsics';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { loadStackTemplate } from '../../local/cloudformation/nested-stacks';
import { apiNameFromTemplate } from '../../local/xray/api-gateway';
import { TraceStore } from '../../local/xray/store';
import { newSegmentId, newTraceId } from '../../local/xray/trace-header';
import { SUMMARY_ANNOTATIONS, tracesReport } from '../../local/xray/waterfall';

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });

test('the handlers annotate exactly the keys the local views filter on, and the AWS guide names them', () => {
  const keys = new Set(
    sourceFiles(join(PROJECT_ROOT, 'functions')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/putAnnotation\('([A-Za-z0-9_]+)'/g)].map((match) => match[1]),
    ),
  );
  expect([...keys].sort()).toEqual([...SUMMARY_ANNOTATIONS].sort());
  const guide = readFileSync(join(PROJECT_ROOT, 'docs/observability.md'), 'utf8');
  for (const key of SUMMARY_ANNOTATIONS) expect(guide).toContain(`annotation.${key}`);
});

test("the local stage segment is the one the template's X-Ray group selects with service()", () => {
  // The group lives in the monitoring layer (nested/monitoring.yaml): read the stack as deployed.
  const template = loadStackTemplate();
  const resolver = new LocalResolver(template, { refs: {}, attributes: {} });
  const stage = String(template.Parameters?.StageName?.Default);
  const groupFilter = String(
    resolver.resolve((template.Resources.TraceGroup?.Properties as { FilterExpression: unknown }).FilterExpression),
  );
  expect(groupFilter).toContain(`service("${apiNameFromTemplate(template, resolver)}/${stage}")`);
});

test('npm run traces -- --last 5 --org org1 prints the matching waterfalls', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'traces-cli-'));
  try {
    const store = new TraceStore({ dir });
    const now = Date.now() / 1000;
    for (const org of ['org1', 'org2']) {
      const traceId = newTraceId();
      const stage = {
        name: 'local-vulnerability-api/v1',
        id: newSegmentId(),
        trace_id: traceId,
        start_time: now,
        end_time: now + 0.1,
        origin: 'AWS::ApiGateway::Stage',
        http: { request: { method: 'GET', url: `https://localhost/vuln?org=${org}` }, response: { status: 200 } },
      };
      store.add(stage);
      store.add({
        name: '## handler.handler',
        id: newSegmentId(),
        trace_id: traceId,
        parent_id: stage.id,
        type: 'subsegment',
        start_time: now + 0.01,
        end_time: now + 0.09,
        annotations: { org },
      });
    }
    const report = tracesReport(new TraceStore({ dir }).all(), { last: 5, filters: { org: 'org1' } });
    expect(report).toMatch(/GET {2}\/vuln {2}200 {2}100 ms {2}org=org1/);
    expect(report).not.toContain('org=org2');
    expect(report).toMatch(/^ {2}## handler\.handler +\| +█+ *\| +80\.0 ms$/m);

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/traces.ts', '--last', '5', '--org', 'org1', '--dir', dir],
      { cwd: PROJECT_ROOT, timeout: 30_000 },
    );
    expect(stdout.trim()).toBe(report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
