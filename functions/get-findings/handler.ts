import { parseFindingsQuery } from '../shared/core/get-findings-query';
import { presentTriage } from '../shared/core/triage';
import { withoutWriter } from '../shared/core/change-actor';
import { decodePageToken, encodePageToken } from '../shared/core/page-token';
import { jsonResponse, type ProxyResult } from '../shared/core/responses';
import { overdueCutoffs, presentSla } from '../shared/core/sla';
import { slaPolicyOf } from '../shared/adapters/authorization';
import { requireEnv } from '../shared/adapters/config';
import { queryFindings } from '../shared/adapters/findings-repository';
import { pageTokenKey } from '../shared/adapters/page-token-key';
import { tracer } from '../shared/adapters/powertools';
import { restHandler } from '../shared/adapters/proxy-answer';

const findingsTable = requireEnv('FINDINGS_TABLE_NAME');

/**
 * GET /vuln?org=ORG[&limit=&nextToken=&severity=|minSeverity=&asset=&cve=&package=&knownExploit=&status=OPEN|FIXED|ALL
 * &workflow=NEW|ACKNOWLEDGED|FALSE_POSITIVE|RISK_ACCEPTED|ALL&overdue=true|false]: one page of the findings of an org
 * the caller may read; by default what there is to fix (OPEN, and NEW or ACKNOWLEDGED: no false positive, no
 * unexpired acceptance). Each finding carries its SLA due time under the org's policy (`SlaDueAt`, null without
 * an SLA). The work per page is bounded, so a filtered page may hold fewer than `limit` items, even none, and
 * still carry a nextToken: follow it.
 */
export const handler = restHandler(async ({ event, authorize }): Promise<ProxyResult> => {
  const query = parseFindingsQuery(event.queryStringParameters, event.multiValueQueryStringParameters);
  tracer.putAnnotation('org', query.org);
  await authorize('GET', [query.org]);
  // The MAC key only when a token is read or signed: a single page of an org needs no secret.
  const now = new Date();
  // Read once per page (through the grants' cache): the due times answered and the overdue filter agree.
  const policy = await slaPolicyOf(query.org);
  const afterVulnId =
    query.nextToken === undefined ? undefined : decodePageToken(await pageTokenKey(), query.nextToken, query.org);
  const page = await queryFindings(findingsTable, {
    org: query.org,
    limit: query.limit,
    afterVulnId,
    filter: {
      severities: query.severities,
      asset: query.asset,
      cve: query.cve,
      packageName: query.packageName,
      knownExploit: query.knownExploit,
      status: query.status,
      workflows: query.workflows,
      now: now.toISOString(),
      overdue:
        query.overdue === undefined
          ? undefined
          : { overdue: query.overdue, cutoffs: overdueCutoffs(policy, now, query.severities) },
    },
  });
  return jsonResponse(200, {
    org: query.org,
    // Each with its effective workflow state (an expired acceptance reads NEW), its Version and its SLA due time.
    // Who last wrote it (`By`) is the history's to answer (GET /vuln/history), not the listing's.
    items: page.items.map((item) => presentSla(presentTriage(withoutWriter(item), now), policy)),
    count: page.items.length,
    ...(page.lastVulnId === undefined
      ? {}
      : { nextToken: encodePageToken(await pageTokenKey(), query.org, page.lastVulnId) }),
  });
});
