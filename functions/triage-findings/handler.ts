import { ValidationError } from '../shared/core/errors';
import { forEachBounded, WRITE_CONCURRENCY } from '../shared/core/concurrency';
import { jsonResponse, type ProxyResult } from '../shared/core/responses';
import { parseTriageRequest, type UnprocessedItem } from '../shared/core/triage';
import { requireEnv } from '../shared/adapters/config';
import { logger, tracer } from '../shared/adapters/powertools';
import { restHandler } from '../shared/adapters/proxy-answer';
import { triageFinding, unavailable, type TriageOutcome } from '../shared/adapters/triage-repository';

const findingsTable = requireEnv('FINDINGS_TABLE_NAME');

function parseBody(body: string | null): unknown {
  if (body === null || body.trim() === '')
    throw new ValidationError([{ index: null, path: '', message: 'must be an object with org and updates' }]);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ValidationError([{ index: null, path: '', message: 'must be JSON' }]);
  }
}

/**
 * POST /vuln/triage {org, updates: [{vulnId, workflow, note?, justification?, expiresAt?, expectedVersion?}]}:
 * the people-owned fields of up to 100 findings of one org, for a certificate granted TRIAGE on it. The
 * answer is per item, like Security Hub's BatchUpdateFindings: `processed` (with each finding's new
 * version) and `unprocessed` (NotFound, ConflictError, InvalidInput, ServiceUnavailable); one bad
 * item never blocks the others, and each item is one conditional UpdateItem, applied whole or not at all.
 */
export const handler = restHandler(async ({ event, requestId, authorize }): Promise<ProxyResult> => {
  const now = new Date();
  const parsed = parseTriageRequest(parseBody(event.body), now);
  if (!parsed.ok) throw new ValidationError(parsed.issues);
  const { org, updates, invalid } = parsed.request;
  tracer.putAnnotation('org', org);
  const actor = await authorize('TRIAGE', [org]);
  const outcomes = new Map<number, TriageOutcome | UnprocessedItem>();
  for (const { index, item } of invalid) outcomes.set(index, item);
  await forEachBounded(updates, WRITE_CONCURRENCY, async ({ index, update }) => {
    const outcome = await triageFinding(findingsTable, org, update, { ...actor, requestId }, now).catch((error) =>
      unavailable(update.vulnId, error),
    );
    outcomes.set(index, outcome);
  });
  const ordered = [...outcomes.entries()].sort(([a], [b]) => a - b);
  const processed = ordered.flatMap(([index, outcome]) =>
    'processed' in outcome && outcome.processed
      ? [{ index, vulnId: outcome.vulnId, workflow: outcome.workflow, version: outcome.version }]
      : [],
  );
  const unprocessed = ordered.flatMap(([index, outcome]) =>
    'processed' in outcome && outcome.processed
      ? []
      : [{ index, vulnId: outcome.vulnId, code: outcome.code, message: outcome.message }],
  );
  const codes: Record<string, number> = {};
  for (const item of unprocessed) codes[item.code] = (codes[item.code] ?? 0) + 1;
  // Counts only: a note or a justification is request content and never logged.
  logger.info('findings triaged', { org, processed: processed.length, unprocessed: codes });
  return jsonResponse(200, { org, processed, unprocessed, requestId });
});
