import { REFERENCE_FINDING, REFERENCE_NORMALIZED } from '../../support/findings';
import { captureLogs, lambdaContext, setHandlerEnvironment } from '../../support/lambda';

setHandlerEnvironment();
let handler: typeof import('../../../functions/normalize/handler').handler;
beforeAll(async () => {
  ({ handler } = await import('../../../functions/normalize/handler'));
});

const context = lambdaContext('normalize');

describe('normalize handler', () => {
  it('normalizes the reference finding', async () => {
    await expect(handler({ findings: [REFERENCE_FINDING] }, context)).resolves.toEqual([REFERENCE_NORMALIZED]);
  });

  it('normalizes every finding of a batch in order', async () => {
    const findings = [
      { ...REFERENCE_FINDING, VulnID: 'a', Priority: 'P1', DueDate: '2024-02-29', AssetName: ' HOST-A ' },
      { ...REFERENCE_FINDING, VulnID: 'b', Priority: '0' },
    ];
    await expect(handler({ findings }, context)).resolves.toEqual([
      { ...findings[0], DueDate: '2024-02-29', AssetName: 'host-a', Severity: 'CRITICAL' },
      { ...findings[1], DueDate: '2022-09-09', Severity: 'INFO' },
    ]);
  });

  it('refuses input that did not pass validation, logging it as unexpected', async () => {
    const logs = captureLogs();
    try {
      await expect(
        handler({ findings: [{ ...REFERENCE_FINDING, DueDate: '02-30-2022' }] }, context),
      ).rejects.toMatchObject({ name: 'ZodError' });
      await expect(handler({ findings: [] }, context)).rejects.toMatchObject({ name: 'ZodError' });
      expect(logs.lines().filter((line) => line.message === 'unexpected error')).toHaveLength(2);
    } finally {
      logs.restore();
    }
  });
});
