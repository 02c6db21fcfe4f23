import * as z from 'zod';
import { validatePostBody, type ValidationResult } from '../shared/core/validate-findings';
import { instrument } from '../shared/adapters/instrument';
import { logger, tracer } from '../shared/adapters/powertools';

const inputSchema = z.object({ body: z.unknown(), requestId: z.string().min(1) });

/**
 * Step 1 of ingestion: the request body becomes `{ valid: true, findings }` or `{ valid: false, issues }`.
 * An invalid request is a result, not an error: the state machine's Choice state routes it to the 400
 * answer, so the issues travel as JSON and never through an error's Cause string.
 */
export const handler = instrument(async (event: unknown): Promise<ValidationResult> => {
  const { body, requestId } = inputSchema.parse(event);
  logger.appendKeys({ requestId });
  const result = validatePostBody(body);
  if (result.valid) tracer.putAnnotation('findingCount', result.findings.length);
  else logger.info('request rejected as invalid', { issueCount: result.issues.length });
  return result;
});
