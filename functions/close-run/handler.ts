import * as z from 'zod';
import { runIdSchema } from '../shared/core/scan-run';
import { requireEnv } from '../shared/adapters/config';
import { closePage } from '../shared/adapters/close-findings';
import { instrument } from '../shared/adapters/instrument';
import { logger, tracer } from '../shared/adapters/powertools';
import { finishClosing, getRun } from '../shared/adapters/runs-repository';

const findingsTable = requireEnv('FINDINGS_TABLE_NAME');
const runsTable = requireEnv('SCAN_RUNS_TABLE_NAME');

const keySchema = z.object({ Org: z.string(), VulnID: z.string() });
const inputSchema = z.discriminatedUnion('operation', [
  z.object({
    operation: z.literal('page'),
    runId: runIdSchema,
    cursor: keySchema.nullable(),
    fixed: z.number().int().min(0),
  }),
  z.object({ operation: z.literal('finish'), runId: runIdSchema, fixed: z.number().int().min(0) }),
]);

/**
 * The steps of the close-run workflow: one page of the org's findings closed (the loop lives in the
 * state machine, so no invocation depends on the org's size), then the receipt's count and state.
 */
export const handler = instrument(async (event: unknown) => {
  const input = inputSchema.parse(event);
  logger.appendKeys({ runId: input.runId });
  if (input.operation === 'finish') {
    await finishClosing(runsTable, input.runId, input.fixed, new Date());
    logger.info('scan run closed', { runId: input.runId, fixed: input.fixed });
    return { runId: input.runId, fixed: input.fixed };
  }
  const run = await getRun(runsTable, input.runId);
  if (run === undefined) throw new Error('the run to close does not exist');
  tracer.putAnnotation('org', run.org);
  const page = await closePage(
    findingsTable,
    {
      runId: run.runId,
      org: run.org,
      scanner: run.scanner,
      scannedAt: run.scannedAt,
      assets: new Set(run.assets),
      actor: {
        subject: run.opener.subject,
        serialNumber: run.opener.serialNumber,
        issuerKey: run.opener.issuerKey,
      },
    },
    input.cursor ?? undefined,
  );
  logger.info('close page done', {
    examined: page.examined,
    closedNow: page.closedNow,
    fixedByRun: page.fixedByRun,
    more: page.nextKey !== undefined,
  });
  return {
    runId: run.runId,
    cursor: page.nextKey ?? null,
    more: page.nextKey !== undefined,
    fixed: input.fixed + page.fixedByRun,
  };
});
