import { z } from 'zod';
import { ValidationError } from '../shared/core/errors';
import type { Finding } from '../shared/core/finding-schema';
import { validatePostBody } from '../shared/core/validate-findings';
import { instrument } from '../shared/adapters/instrument';
import { logger, tracer } from '../shared/adapters/powertools';

const inputSchema = z.object({ body: z.unknown(), requestId: z.string().min(1) });

/** Step 1 of ingestion: the request body becomes a list of schema-valid findings, or a 400 listing every issue. */
export const handler = instrument(async (event: unknown): Promise<Finding[]> => {
  const { body, requestId } = inputSchema.parse(event);
  logger.appendKeys({ requestId });
  try {
    const findings = validatePostBody(body);
    tracer.putAnnotation('findingCount', findings.length);
    return findings;
  } catch (error) {
    if (error instanceof ValidationError) {
      logger.info('request rejected as invalid', { issueCount: error.issues.length });
      throw new ValidationError(error.issues, requestId);
    }
    throw error;
  }
});
