import { REFERENCE_FINDING, findingBatch } from '../../support/findings';
import { captureLogs, lambdaContext, setHandlerEnvironment, type CapturedLogs } from '../../support/lambda';

setHandlerEnvironment();
let handler: typeof import('../../../functions/validate/handler').handler;
let logs: CapturedLogs;
beforeAll(async () => {
  ({ handler } = await import('../../../functions/validate/handler'));
});
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

const context = lambdaContext('validate');

async function issuesOf(event: unknown) {
  const result = await handler(event, context);
  if (result.valid) throw new Error('expected the request to be invalid');
  return result.issues;
}

describe('validate handler', () => {
  it('returns the reference finding as a list', async () => {
    await expect(handler({ body: REFERENCE_FINDING, requestId: 'req-1' }, context)).resolves.toEqual({
      valid: true,
      findings: [REFERENCE_FINDING],
      runId: null,
    });
  });

  it('accepts the body as JSON text and a batch', async () => {
    const findings = findingBatch(3);
    await expect(handler({ body: JSON.stringify({ findings }), requestId: 'req-1' }, context)).resolves.toEqual({
      valid: true,
      findings,
      runId: null,
    });
  });

  it('returns an invalid request as a result with its issues, not as an error', async () => {
    await expect(
      handler({ body: { ...REFERENCE_FINDING, DueDate: '02-30-2022' }, requestId: 'req-42' }, context),
    ).resolves.toEqual({
      valid: false,
      issues: [{ index: 0, path: 'DueDate', message: 'must be a real calendar date' }],
    });
  });

  it('logs the rejection once with the issue count and request id, never the body', async () => {
    await issuesOf({
      body: { findings: [REFERENCE_FINDING, { ...REFERENCE_FINDING, PluginId: 1.5, Org: 'bad org' }] },
      requestId: 'req-7',
    });
    const rejections = logs.lines().filter((line) => line.message === 'request rejected as invalid');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({
      level: 'INFO',
      issueCount: 2,
      requestId: 'req-7',
      service: 'vulnerability-api',
      function_name: 'validate',
    });
    expect(logs.text()).not.toContain(REFERENCE_FINDING.AssetName);
  });

  it('fails (an error, not a 400) when the state machine sends no request id', async () => {
    await expect(handler({ body: REFERENCE_FINDING }, context)).rejects.toThrow();
  });

  it('does not carry one call’s request id into the next call’s logs', async () => {
    await issuesOf({ body: {}, requestId: 'first' });
    await handler({ body: REFERENCE_FINDING, requestId: 'second' }, context);
    await issuesOf({ body: [], requestId: 'third' });
    expect(logs.lines().map((line) => line.requestId)).toEqual(['first', 'third']);
  });
});
