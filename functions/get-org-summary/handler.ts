import { parseSummaryQuery } from '../shared/core/history-query';
import { readSummary } from '../shared/core/org-summary';
import { jsonResponse, type ProxyResult } from '../shared/core/responses';
import { slaPolicyOf } from '../shared/adapters/authorization';
import { requireEnv } from '../shared/adapters/config';
import { tracer } from '../shared/adapters/powertools';
import { restHandler } from '../shared/adapters/proxy-answer';
import { getSummaryItem } from '../shared/adapters/summary-repository';

const summaryTable = requireEnv('SUMMARY_TABLE_NAME');

/**
 * GET /vuln/summary?org=ORG: the org's summary (docs/finding-lifecycle.md, "The org summary") for a certificate
 * granted GET on the org. One read of one item, whatever the org's size; the time-dependent figures are computed now.
 */
export const handler = restHandler(async ({ event, authorize }): Promise<ProxyResult> => {
  const { org } = parseSummaryQuery(event.queryStringParameters, event.multiValueQueryStringParameters);
  tracer.putAnnotation('org', org);
  await authorize('GET', [org]);
  const [item, policy] = await Promise.all([getSummaryItem(summaryTable, org), slaPolicyOf(org)]);
  return jsonResponse(200, readSummary(org, item, new Date(), policy));
});
