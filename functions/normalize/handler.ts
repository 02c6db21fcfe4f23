import * as z from 'zod';
import { findingSchema } from '../shared/core/finding-schema';
import { normalizeFindings, type NormalizedFinding } from '../shared/core/normalize';
import { instrument } from '../shared/adapters/instrument';

const inputSchema = z.object({ findings: z.array(findingSchema).min(1) });

/** Step 2 of ingestion: ISO dates, canonical asset names, derived severity. */
export const handler = instrument(async (event: unknown): Promise<NormalizedFinding[]> => {
  return normalizeFindings(inputSchema.parse(event).findings);
});
