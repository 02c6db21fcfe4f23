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

const KNOWN_PARAMETERS: ReadonlySet<string> = new Set(Object.keys(querySchema.shape));
const UNKNOWN_PARAMETER = { index: null, path: '', message: `unknown query parameter (allowed: ${[...KNOWN_PARAMETERS].join(', ')})` };

/**
 * Parses GET /vuln query parameters. Every parameter may appear once; unknown parameters are
 * refused so a typo does not silently widen the answer. An answer names only parameters we define:
 * a name the client made up is never repeated back to it.
 */
export function parseFindingsQuery(single: Record<string, string | undefined> | null, multi: Record<string, string[] | undefined> | null): FindingsQuery {
  const names = Object.keys(single ?? {});
  if (names.some((name) => !KNOWN_PARAMETERS.has(name))) throw new ValidationError([UNKNOWN_PARAMETER]);
  const repeated = Object.entries(multi ?? {}).filter(([, values]) => (values?.length ?? 0) > 1).map(([name]) => name);
  if (repeated.length > 0) {
    throw new ValidationError(repeated.map((name) => (KNOWN_PARAMETERS.has(name) ? { index: null, path: name, message: 'must be given once' } : UNKNOWN_PARAMETER)));
  }
  const result = querySchema.safeParse({ ...single });
  if (!result.success) {
    throw new ValidationError(
      result.error.issues.map((issue) => {
        const path = issue.path.map(String).join('.');
        if (issue.path.length === 0) return issue.code === 'invalid_type' ? { index: null, path: 'org', message: 'org is required' } : UNKNOWN_PARAMETER;
        return { index: null, path: KNOWN_PARAMETERS.has(path) ? path : '', message: issue.message };
      }),
    );
  }
  const { org, limit, nextToken, severity } = result.data;
  return { org, limit: limit ?? DEFAULT_PAGE_SIZE, nextToken, severity };
}
