import * as z from 'zod';
import { CVE_PATTERN, PACKAGE_LIMITS, orgSchema } from './finding-schema';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './limits';
import { RANKED_SEVERITIES, SEVERITIES, severitiesAtLeast, type Severity } from './severity';
import { ValidationError } from './errors';
import { FINDING_STATUSES, type FindingStatus } from './lifecycle';
import { ACTIONABLE_STATES, WORKFLOW_STATES, type WorkflowState } from './triage';

const querySchema = z.strictObject({
  org: orgSchema,
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, `must be between 1 and ${MAX_PAGE_SIZE}`)
        .max(MAX_PAGE_SIZE, `must be between 1 and ${MAX_PAGE_SIZE}`),
    )
    .optional(),
  nextToken: z.string().min(1).max(2048).optional(),
  severity: z.enum(SEVERITIES, { message: `must be one of ${SEVERITIES.join(', ')}` }).optional(),
  minSeverity: z.enum(RANKED_SEVERITIES, { message: `must be one of ${RANKED_SEVERITIES.join(', ')}` }).optional(),
  // Compared with the stored (normalized) asset name, so the case the caller types does not matter.
  asset: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .transform((value) => value.toLowerCase())
    .optional(),
  cve: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.string().regex(CVE_PATTERN, 'must be a CVE id like CVE-2021-44228'))
    .optional(),
  // The package name as the scanner wrote it (package names are case-sensitive in some ecosystems).
  package: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(PACKAGE_LIMITS.PackageName, `must be at most ${PACKAGE_LIMITS.PackageName} characters`)
    .optional(),
  knownExploit: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((value) => value === 'true')
    .optional(),
  status: z
    .enum([...FINDING_STATUSES, 'ALL'], { message: `must be one of ${[...FINDING_STATUSES, 'ALL'].join(', ')}` })
    .optional(),
  // The default is what there is to fix: NEW and ACKNOWLEDGED (an expired acceptance is NEW).
  workflow: z
    .enum([...WORKFLOW_STATES, 'ALL'], { message: `must be one of ${[...WORKFLOW_STATES, 'ALL'].join(', ')}` })
    .optional(),
  // true: only findings past their SLA due time (FirstSeen + the org's days for their severity); false: the others.
  overdue: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((value) => value === 'true')
    .optional(),
});

export interface FindingsQuery {
  org: string;
  limit: number;
  nextToken: string | undefined;
  /** The severities a finding may have to be listed (from `severity=` or `minSeverity=`), or undefined for all. */
  severities: Severity[] | undefined;
  asset: string | undefined;
  cve: string | undefined;
  /** The package name a finding's PackageName equals. */
  packageName: string | undefined;
  /** true: findings the scanner says have a known exploit; false: the others. */
  knownExploit: boolean | undefined;
  /** OPEN (the default) or FIXED; undefined for ALL. */
  status: FindingStatus | undefined;
  /** The effective workflow states to list: NEW and ACKNOWLEDGED by default; undefined for ALL. */
  workflows: readonly WorkflowState[] | undefined;
  /** true: only overdue findings; false: only those not overdue; undefined: both. */
  overdue: boolean | undefined;
}

/** The query parameters GET /vuln takes (api/openapi.yaml declares the same, a test holds them equal). */
export const FINDINGS_QUERY_PARAMETERS: readonly string[] = Object.keys(querySchema.shape);

/**
 * Parses the query parameters of a GET route against its schema. Every parameter may appear once; unknown
 * parameters are refused so a typo does not silently widen the answer. An answer names only parameters we define:
 * a name the client made up is never repeated back to it.
 */
export function parseQueryParameters<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  single: Record<string, string | undefined> | null,
  multi: Record<string, string[] | undefined> | null,
): z.infer<z.ZodObject<Shape>> {
  const known: ReadonlySet<string> = new Set(Object.keys(schema.shape));
  const unknownParameter = {
    index: null,
    path: '',
    message: `unknown query parameter (allowed: ${[...known].join(', ')})`,
  };
  const names = Object.keys(single ?? {});
  if (names.some((name) => !known.has(name))) throw new ValidationError([unknownParameter]);
  const repeated = Object.entries(multi ?? {})
    .filter(([, values]) => (values?.length ?? 0) > 1)
    .map(([name]) => name);
  if (repeated.length > 0) {
    throw new ValidationError(
      repeated.map((name) =>
        known.has(name) ? { index: null, path: name, message: 'must be given once' } : unknownParameter,
      ),
    );
  }
  const result = schema.safeParse({ ...single });
  if (!result.success) {
    // Names are ours only: a parameter we do not know is "unknown field", never echoed.
    throw new ValidationError(
      result.error.issues.map((issue) => {
        const path = issue.path.map(String).join('.');
        if (issue.path.length === 0)
          return issue.code === 'invalid_type'
            ? { index: null, path: 'org', message: 'org is required' }
            : unknownParameter;
        return { index: null, path: known.has(path) ? path : '', message: issue.message };
      }),
    );
  }
  return result.data;
}

/** The page size parameter every paged GET takes. */
export const limitParameter = querySchema.shape.limit;

/** Parses GET /vuln query parameters (parseQueryParameters). */
export function parseFindingsQuery(
  single: Record<string, string | undefined> | null,
  multi: Record<string, string[] | undefined> | null,
): FindingsQuery {
  const data = parseQueryParameters(querySchema, single, multi);
  const { org, limit, nextToken, severity, minSeverity, asset, cve, knownExploit, status = 'OPEN' } = data;
  if (severity !== undefined && minSeverity !== undefined) {
    throw new ValidationError([
      { index: null, path: 'minSeverity', message: 'give severity or minSeverity, not both' },
    ]);
  }
  const severities =
    severity !== undefined ? [severity] : minSeverity !== undefined ? severitiesAtLeast(minSeverity) : undefined;
  return {
    org,
    limit: limit ?? DEFAULT_PAGE_SIZE,
    nextToken,
    severities,
    asset,
    cve,
    packageName: data.package,
    knownExploit,
    status: status === 'ALL' ? undefined : status,
    workflows: data.workflow === undefined ? ACTIONABLE_STATES : data.workflow === 'ALL' ? undefined : [data.workflow],
    overdue: data.overdue,
  };
}
