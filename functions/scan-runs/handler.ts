import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { NotFoundError, type FieldIssue } from '../shared/core/errors';
import {
  closeExecutionName,
  completionStep,
  newRun,
  runIdSchema,
  runRequestSchema,
  type RunState,
  type ScanRun,
} from '../shared/core/scan-run';
import { requireEnv } from '../shared/adapters/config';
import { instrument } from '../shared/adapters/instrument';
import { logger, tracer } from '../shared/adapters/powertools';
import { beginClosing, createRun, getRun } from '../shared/adapters/runs-repository';

const runsTable = requireEnv('SCAN_RUNS_TABLE_NAME');

const inputSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('validate'), requestId: z.string().min(1), body: z.unknown() }),
  z.object({
    operation: z.literal('open'),
    requestId: z.string().min(1),
    run: runRequestSchema,
    opener: z.object({
      ou: z.string(),
      serialNumber: z.string(),
      certificateSha256: z.string().regex(/^[0-9a-f]{64}$/),
      issuerKey: z.string().optional(),
      // The opener's subject DN: the findings its run closes name it in their history.
      subject: z.string().optional(),
    }),
  }),
  z.object({ operation: z.literal('read'), requestId: z.string().min(1), runId: z.string().max(200) }),
  z.object({ operation: z.literal('begin-closing'), requestId: z.string().min(1), runId: runIdSchema }),
]);
type Input = z.infer<typeof inputSchema>;

/** A body as the Validate step reads one: JSON text or already parsed. */
function parsedBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function validate(body: unknown) {
  const result = runRequestSchema.safeParse(parsedBody(body));
  if (result.success) return { valid: true as const, run: result.data, orgs: [{ Org: result.data.org }] };
  // Paths are our schema's; a key the client made up is never repeated back ("unknown field" where it sits).
  const issues: FieldIssue[] = result.error.issues.map((issue) => ({
    index: null,
    path: issue.path.map(String).join('.'),
    message:
      issue.code === 'unrecognized_keys'
        ? 'unknown field'
        : issue.path.length === 0
          ? 'body must be a JSON object with org, scanner and scannedAt'
          : issue.message,
  }));
  return { valid: false as const, issues: issues.slice(0, 20) };
}

async function run(input: Input) {
  switch (input.operation) {
    case 'validate':
      return validate(input.body);
    case 'open': {
      const opened = newRun(randomUUID(), input.run, input.opener, new Date());
      await createRun(runsTable, opened);
      tracer.putAnnotation('org', opened.org);
      logger.info('scan run opened', {
        runId: opened.runId,
        org: opened.org,
        scanner: opened.scanner,
        scannedAt: opened.scannedAt,
        opener: opened.opener,
      });
      return {
        runId: opened.runId,
        org: opened.org,
        scanner: opened.scanner,
        scannedAt: opened.scannedAt,
        state: opened.state,
      };
    }
    case 'read': {
      // A malformed id is a run that does not exist: the same 404.
      const stored = runIdSchema.safeParse(input.runId).success ? await getRun(runsTable, input.runId) : undefined;
      if (stored === undefined) throw new NotFoundError('no-such-run');
      tracer.putAnnotation('org', stored.org);
      return { runId: stored.runId, orgs: [{ Org: stored.org }] };
    }
    case 'begin-closing': {
      const stored = await getRun(runsTable, input.runId);
      if (stored === undefined) throw new NotFoundError('no-such-run');
      const now = new Date();
      const step = completionStep(stored, now);
      let answer: ReturnType<typeof currentPass>;
      if (step === 'nothing') answer = currentPass(stored);
      else if (await beginClosing(runsTable, stored, now)) answer = started(stored.runId, now.toISOString());
      // Another complete moved the run first: its pass, under its name.
      else answer = currentPass((await getRun(runsTable, input.runId)) ?? stored);
      logger.info('scan run completed', { runId: stored.runId, org: stored.org, step, start: answer.start });
      return answer;
    }
  }
}

/**
 * A closing run's pass is started again under its own name, which Step Functions runs once (the same execution
 * while it runs, ExecutionAlreadyExists after): a complete whose start was lost, or answered 503, is repaired by
 * completing again. A closed run starts nothing.
 */
function currentPass(run: ScanRun) {
  return run.state === 'closing' && run.closingStartedAt !== undefined
    ? started(run.runId, run.closingStartedAt)
    : { runId: run.runId, start: false, state: run.state };
}

/** The answer of a complete that starts a pass: the close-run execution's name is the pass's. */
function started(runId: string, closingStartedAt: string) {
  return {
    runId,
    start: true,
    state: 'closing' as RunState,
    executionName: closeExecutionName(runId, closingStartedAt),
  };
}

/** Opening and completing scan runs: the steps of the scan-runs workflow around its authorization step. */
export const handler = instrument(async (event: unknown) => {
  const input = inputSchema.parse(event);
  logger.appendKeys({ requestId: input.requestId });
  return run(input);
});
