import { ValidationError } from '../../../functions/shared/core/errors';
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

async function validationErrorOf(event: unknown): Promise<ValidationError> {
  const error: unknown = await handler(event, context).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('validate handler', () => {
  it('returns the reference finding as a list', async () => {
    await expect(handler({ body: REFERENCE_FINDING, requestId: 'req-1' }, context)).resolves.toEqual([REFERENCE_FINDING]);
  });

  it('accepts the body as JSON text and a batch', async () => {
    const findings = findingBatch(3);
    await expect(handler({ body: JSON.stringify({ findings }), requestId: 'req-1' }, context)).resolves.toEqual(findings);
  });

  it('throws a ValidationError whose message is the 400 body, request id included', async () => {
    const error = await validationErrorOf({ body: { ...REFERENCE_FINDING, DueDate: '02-30-2022' }, requestId: 'req-42' });
    expect(error.name).toBe('ValidationError');
    expect(JSON.parse(error.message)).toEqual({
      message: 'Invalid request',
      errors: [{ index: 0, path: 'DueDate', message: 'must be a real calendar date' }],
      requestId: 'req-42',
    });
  });

  it('logs the rejection once with the issue count and request id, never the body', async () => {
    await validationErrorOf({ body: { findings: [REFERENCE_FINDING, { ...REFERENCE_FINDING, PluginId: 1.5, Org: 'bad org' }] }, requestId: 'req-7' });
    const rejections = logs.lines().filter((line) => line.message === 'request rejected as invalid');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ level: 'INFO', issueCount: 2, requestId: 'req-7', service: 'vulnerability-api', function_name: 'validate' });
    expect(logs.text()).not.toContain(REFERENCE_FINDING.AssetName);
  });

  it('fails (not a ValidationError) when the state machine sends no request id', async () => {
    const error: unknown = await handler({ body: REFERENCE_FINDING }, context).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ValidationError);
  });

  it('does not carry one call’s request id into the next call’s logs', async () => {
    await validationErrorOf({ body: {}, requestId: 'first' });
    await handler({ body: REFERENCE_FINDING, requestId: 'second' }, context);
    await validationErrorOf({ body: [], requestId: 'third' });
    expect(logs.lines().map((line) => line.requestId)).toEqual(['first', 'third']);
  });
});
