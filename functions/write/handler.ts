import * as z from 'zod';
import { findingSchema } from '../shared/core/finding-schema';
import { SEVERITIES } from '../shared/core/severity';
import { requireEnv } from '../shared/adapters/config';
import { upsertFindings } from '../shared/adapters/findings-repository';
import { instrument } from '../shared/adapters/instrument';
import { logger, tracer } from '../shared/adapters/powertools';

const findingsTable = requireEnv('FINDINGS_TABLE_NAME');

const inputSchema = z.object({
  requestId: z.string().min(1),
  findings: z.array(findingSchema.extend({ Severity: z.enum(SEVERITIES) })).min(1),
});

/** Step 4 of ingestion: upsert every finding (FirstSeen kept, LastSeen set). */
export const handler = instrument(async (event: unknown) => {
  const { requestId, findings } = inputSchema.parse(event);
  logger.appendKeys({ requestId });
  tracer.putAnnotation('findingCount', findings.length);
  const { created, updated } = await upsertFindings(findingsTable, findings, new Date());
  logger.info('findings written', { accepted: findings.length, created, updated });
  return { accepted: findings.length, created, updated, requestId };
});
