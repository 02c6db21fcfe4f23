import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import * as z from 'zod';
import { ConflictError, ForbiddenError, NotFoundError } from '../shared/core/errors';
import { findingSchema } from '../shared/core/finding-schema';
import type { ChangeActor } from '../shared/core/change-actor';
import type { WriteCounts } from '../shared/core/lifecycle';
import type { NormalizedFinding } from '../shared/core/normalize';
import { newAssets, runIdSchema, type ScanRun } from '../shared/core/scan-run';
import { SEVERITIES } from '../shared/core/severity';
import { requireEnv } from '../shared/adapters/config';
import { dynamoDbClient } from '../shared/adapters/dynamodb-client';
import { writeFindings, type ConsumedUnits } from '../shared/adapters/findings-repository';
import { instrument } from '../shared/adapters/instrument';
import { logger, tracer } from '../shared/adapters/powertools';
import { getRun, recordBatch } from '../shared/adapters/runs-repository';

const findingsTable = requireEnv('FINDINGS_TABLE_NAME');
const runsTable = requireEnv('SCAN_RUNS_TABLE_NAME');

/**
 * A run's batch sent again (a client retry after a lost answer, a push re-run) must not count twice
 * in the receipt: Powertools Idempotency keeps each batch's answer for a day, keyed by a hash of
 * `{ runId, findings }`, and answers a repeat from it without writing anything.
 */
const idempotency = new IdempotencyConfig({ expiresAfterSeconds: 24 * 60 * 60 });
const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: requireEnv('IDEMPOTENCY_TABLE_NAME'),
  // The runs table holds the records (template.yaml): its key is RunId, and a record's key cannot be a run id.
  keyAttr: 'RunId',
  awsSdkV3Client: dynamoDbClient,
});

const inputSchema = z.object({
  requestId: z.string().min(1),
  runId: runIdSchema.nullish(),
  findings: z.array(findingSchema.extend({ Severity: z.enum(SEVERITIES) })).min(1),
  /** The Authorize step's answer: the certificate the findings' history names (absent: the request id alone). */
  actor: z
    .object({ subject: z.string().optional(), serialNumber: z.string().optional(), issuerKey: z.string().optional() })
    .optional(),
});

interface RunBatch {
  runId: string;
  findings: NormalizedFinding[];
}

/** One batch of a run: written at the run's scan time under its scanner, then counted in the run. */
const writeRunBatch = makeIdempotent(
  async (batch: RunBatch, run: ScanRun, units: ConsumedUnits, actor: ChangeActor): Promise<WriteCounts> => {
    const findings = batch.findings.map((finding) => ({ ...finding, Scanner: run.scanner }));
    const counts = await writeFindings(
      findingsTable,
      findings,
      { scannedAt: run.scannedAt, runId: run.runId, actor },
      units,
    );
    await recordBatch(runsTable, run.runId, findings.length, counts, [
      ...new Set(findings.map((finding) => finding.AssetName)),
    ]);
    return counts;
  },
  { persistenceStore, config: idempotency },
);

/** The run a batch names, if the batch may join it: it exists, holds the batch's org, is open, and has room for its assets. */
async function openRunFor(runId: string, findings: NormalizedFinding[]): Promise<ScanRun> {
  const run = await getRun(runsTable, runId);
  if (run === undefined) throw new NotFoundError('no-such-run');
  // A run belongs to one org: a finding of another org in its batch is refused as any ungranted org is.
  if (findings.some((finding) => finding.Org !== run.org)) throw new ForbiddenError('finding-outside-run-org');
  if (run.state !== 'open') throw new ConflictError('run-not-open');
  if (
    newAssets(
      run,
      findings.map((finding) => finding.AssetName),
    ).overLimit
  )
    throw new ConflictError('run-asset-limit');
  return run;
}

/** Step 4 of ingestion: write every finding under the lifecycle rules and count what each became. */
export const handler = instrument(async (event: unknown, context) => {
  const { requestId, runId, findings, actor: certificate } = inputSchema.parse(event);
  const actor: ChangeActor = { ...certificate, requestId };
  logger.appendKeys({ requestId, ...(runId ? { runId } : {}) });
  tracer.putAnnotation('findingCount', findings.length);
  let counts: WriteCounts;
  // What DynamoDB reported the findings' reads and writes cost (a repeat answered by Idempotency costs none).
  const units: ConsumedUnits = { readUnits: 0, writeUnits: 0 };
  if (runId) {
    const run = await openRunFor(runId, findings);
    idempotency.registerLambdaContext(context);
    counts = await writeRunBatch({ runId, findings }, run, units, actor);
  } else {
    // Without a run the request's own time is the scan's.
    counts = await writeFindings(findingsTable, findings, { scannedAt: new Date().toISOString(), actor }, units);
  }
  logger.info('findings written', { accepted: findings.length, ...counts, ...units });
  return { accepted: findings.length, ...counts, runId: runId ?? null, requestId };
});
