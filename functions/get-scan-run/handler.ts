import * as z from 'zod';
import { ForbiddenError, NotFoundError, ValidationError } from '../shared/core/errors';
import { orgSchema } from '../shared/core/finding-schema';
import { jsonResponse, type ProxyResult } from '../shared/core/responses';
import { receiptOf, runIdSchema } from '../shared/core/scan-run';
import { requireEnv } from '../shared/adapters/config';
import { tracer } from '../shared/adapters/powertools';
import { restHandler } from '../shared/adapters/proxy-answer';
import { getRun } from '../shared/adapters/runs-repository';

const runsTable = requireEnv('SCAN_RUNS_TABLE_NAME');

const querySchema = z.strictObject({ org: orgSchema });

function parseOrg(
  single: Record<string, string | undefined> | null,
  multi: Record<string, string[] | undefined> | null,
): string {
  if (Object.values(multi ?? {}).some((values) => (values?.length ?? 0) > 1))
    throw new ValidationError([{ index: null, path: 'org', message: 'must be given once' }]);
  const result = querySchema.safeParse({ ...single });
  if (!result.success) {
    throw new ValidationError(
      result.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys'
          ? { index: null, path: '', message: 'unknown query parameter (allowed: org)' }
          : { index: null, path: 'org', message: issue.message },
      ),
    );
  }
  return result.data.org;
}

/**
 * GET /scans/{runId}?org=ORG: a run's receipt, for its opener (the very certificate that opened it) and for the
 * org's GET-granted users. Anyone else, a run of another org and a run that does not exist all get
 * the same 404, so the answer never tells whether a run exists.
 */
export const handler = restHandler(async ({ event, authorize }): Promise<ProxyResult> => {
  const org = parseOrg(event.queryStringParameters, event.multiValueQueryStringParameters);
  tracer.putAnnotation('org', org);
  const runId = event.pathParameters?.runId ?? '';
  const run = runIdSchema.safeParse(runId).success ? await getRun(runsTable, runId) : undefined;
  if (run === undefined || run.org !== org) throw new NotFoundError('no-such-run');
  try {
    await authorize('GET', [org], run.opener);
  } catch (error) {
    if (error instanceof ForbiddenError) throw new NotFoundError(`forbidden: ${error.reason}`);
    throw error;
  }
  return jsonResponse(200, receiptOf(run));
});
