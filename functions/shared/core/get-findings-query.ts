import { z } from 'zod';
import { orgSchema } from './finding-schema';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './limits';
import { SEVERITIES } from './severity';
import { ValidationError } from './errors';

const querySchema = z.strictObject({
  org: orgSchema,
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, `must be between 1 and ${MAX_PAGE_SIZE}`).max(MAX_PAGE_SIZE, `must be between 1 and ${MAX_PAGE_SIZE}`))
    .optional(),
  nextToken: z.string().min(1).max(2048).optional(),
  severity: z.enum(SEVERITIES, { message: `must be one of ${SEVERITIES.join(', ')}` }).optional(),
});

export interface FindingsQuery {
  org: string;
  limit: number;
  nextToken: string | undefined;
  severity: (typeof SEVERITIES)[number] | undefined;
}

/**
 * Parses GET /vuln query parameters. Every parameter may appear once; unknown parameters are
 * refused so a typo does not silently widen the answer.
 */
export function parseFindingsQuery(single: Record<string, string | undefined> | null, multi: Record<string, string[] | undefined> | null): FindingsQuery {
  const known = new Set(Object.keys(querySchema.shape));
  const repeated = Object.entries(multi ?? {}).filter(([name, values]) => known.has(name) && (values?.length ?? 0) > 1).map(([name]) => name);
  if (repeated.length > 0) {
    throw new ValidationError(repeated.map((name) => ({ index: null, path: name, message: 'must be given once' })));
  }
  const result = querySchema.safeParse(single ?? {});
  if (!result.success) {
    // Names are ours only: a parameter we do not know is "unknown field", never echoed.
    throw new ValidationError(
      result.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys'
          ? { index: null, path: '', message: 'unknown field' }
          : { index: null, path: issue.path.map(String).join('.'), message: issue.path.length === 0 && issue.code === 'invalid_type' ? 'org is required' : issue.message },
      ),
    );
  }
  const { org, limit, nextToken, severity } = result.data;
  return { org, limit: limit ?? DEFAULT_PAGE_SIZE, nextToken, severity };
}
