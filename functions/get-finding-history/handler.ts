import { presentEntry } from '../shared/core/finding-history';
import { historyTokenScope, parseHistoryQuery } from '../shared/core/history-query';
import { decodePageToken, encodePageToken } from '../shared/core/page-token';
import { jsonResponse, type ProxyResult } from '../shared/core/responses';
import { requireEnv } from '../shared/adapters/config';
import { queryHistory } from '../shared/adapters/history-repository';
import { pageTokenKey } from '../shared/adapters/page-token-key';
import { tracer } from '../shared/adapters/powertools';
import { restHandler } from '../shared/adapters/proxy-answer';

const historyTable = requireEnv('HISTORY_TABLE_NAME');

/**
 * GET /vuln/history?org=ORG&vulnId=ID[&limit=&nextToken=]: one page of a finding's history, newest first, for a
 * certificate granted GET on the org; paged with the signed tokens of GET /vuln, bound to this finding.
 */
export const handler = restHandler(async ({ event, authorize }): Promise<ProxyResult> => {
  const query = parseHistoryQuery(event.queryStringParameters, event.multiValueQueryStringParameters);
  tracer.putAnnotation('org', query.org);
  await authorize('GET', [query.org]);
  // The MAC key only when a token is read or signed, as GET /vuln: a single page reads no secret.
  const scope = historyTokenScope(query.org, query.vulnId);
  const beforeSeq =
    query.nextToken === undefined ? undefined : decodePageToken(await pageTokenKey(), query.nextToken, scope);
  const page = await queryHistory(historyTable, { ...query, beforeSeq });
  return jsonResponse(200, {
    org: query.org,
    vulnId: query.vulnId,
    items: page.entries.map(presentEntry),
    count: page.entries.length,
    ...(page.lastSeq === undefined ? {} : { nextToken: encodePageToken(await pageTokenKey(), scope, page.lastSeq) }),
  });
});
