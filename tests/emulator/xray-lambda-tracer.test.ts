/**
 * The seam for per-invocation tracing: with the environment lambdaTraceEnvironment gives (what Lambda sets),
 * the real Powertools Tracer (aws-xray-sdk-core underneath) in a separate process sends its subsegments to the
 * local daemon, under the invocation's trace and function segment, with the handler's annotations and errors.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { formatTraceHeader, lambdaTraceEnvironment, newSegmentId, newTraceId } from '../../local/xray/trace-header';
import { startLocalTracing, type LocalTracing } from '../../local/xray/tracing';
import { completeTrace } from '../support/traces';

let tracing: LocalTracing;

beforeAll(async () => {
  tracing = await startLocalTracing({ daemonPort: 0 });
});

afterAll(async () => {
  await tracing?.close();
});

function runInChild(
  entryPoint: string,
  invocations: { event: unknown; environment: Record<string, string> }[],
): Promise<{ ok: boolean; errorType?: string }[]> {
  const first = invocations[0]?.environment ?? {};
  const environment = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    // What every Lambda execution environment has; the X-Ray SDK and Powertools key off these.
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: PROJECT_ROOT,
    AWS_LAMBDA_FUNCTION_NAME: 'ValidateFunction',
    _HANDLER: 'handler.handler',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_SERVICE_NAME: 'vulnerability-api',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // The daemon address is read when the SDK loads, so the first invocation's variables are there from the start.
    ...first,
  };
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'tests/support/invoke-in-child.ts')],
      { cwd: PROJECT_ROOT, env: environment, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as { ok: boolean; errorType?: string }[]);
      },
    );
    child.stdin?.end(JSON.stringify({ entryPoint, invocations }));
  });
}

test('Powertools Tracer in a child process sends each invocation under its own trace header', async () => {
  const validEvent = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/validate.json'), 'utf8')) as {
    body: unknown;
    requestId: string;
  };
  const invocations = [
    { root: newTraceId(), parent: newSegmentId(), event: validEvent },
    // An event without its requestId is a malformed invocation: the handler throws (an invalid body would be a result).
    { root: newTraceId(), parent: newSegmentId(), event: { body: validEvent.body } },
  ];
  const outcomes = await runInChild(
    join(PROJECT_ROOT, 'functions/validate/handler.ts'),
    invocations.map(({ root, parent, event }) => ({
      event,
      environment: lambdaTraceEnvironment(formatTraceHeader({ root, parent, sampled: true }), tracing.daemon.address),
    })),
  );
  expect(outcomes).toEqual([{ ok: true }, { ok: false, errorType: 'ZodError' }]);

  const [succeeded, failed] = invocations;
  const first = (await completeTrace(tracing.store, succeeded?.root ?? '')).documents;
  expect(first).toEqual([
    expect.objectContaining({
      type: 'subsegment',
      name: '## handler.handler',
      trace_id: succeeded?.root,
      parent_id: succeeded?.parent,
      annotations: expect.objectContaining({
        findingCount: (validEvent.body as { findings: unknown[] }).findings.length,
        Service: 'vulnerability-api',
      }),
    }),
  ]);
  const second = (await completeTrace(tracing.store, failed?.root ?? '')).documents;
  expect(second).toEqual([
    expect.objectContaining({ parent_id: failed?.parent, name: '## handler.handler', fault: true }),
  ]);
  expect(second[0]?.cause).toEqual({ exceptions: [expect.objectContaining({ type: 'ZodError' })] });
  // The SDK sends the exception's stack and the working directory; neither is kept.
  expect(JSON.stringify(second)).not.toMatch(/stack|working_directory|\.ts:\d+/);
  expect(tracing.daemon.stats().rejected).toBe(0);
});
