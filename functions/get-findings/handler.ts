import type { APIGatewayProxyEvent } from 'aws-lambda';
import { toHttpError } from '../shared/core/errors';
import { parseFindingsQuery } from '../shared/core/get-findings-query';
import { presentTriage } from '../shared/core/triage';
import { withoutWriter } from '../shared/core/change-actor';
import { decodePageToken, encodePageToken } from '../shared/core/page-token';
import { jsonResponse, type ProxyResult } from '../shared/core/responses';
import { overdueCutoffs, presentSla } from '../shared/core/sla';
import { authorizeRequest, slaPolicyOf } from '../shared/adapters/authorization';
import { requireEnv } from '../shared/adapters/config';
import { queryFindings } from '../shared/adapters/findings-repository';
import { describeError, instrument } from '../shared/adapters/instrument';
import { pageTokenKey } from '../shared/adapters/page-token-key';
import { logger, tracer } from '../shared/adapters/powertools';

const findingsTable = requireEnv('FINDINGS_TABLE_NAME');

/**
 * GET /vuln?org=ORG[&limit=&nextToken=&severity=|minSeverity=&asset=&cve=&package=&knownExploit=&status=OPEN|FIXED|ALL
 * &workflow=NEW|ACKNOWLEDGED|FALSE_POSITIVE|RISK_ACCEPTED|ALL&overdue=true|false]: one page of the findings of an org
 * the caller may read; by default what there is to fix (OPEN, and NEW or ACKNOWLEDGED: no false positive, no
 * unexpired acceptance). Each finding carries its SLA due time under the org's policy (`SlaDueAt`, null without
 * an SLA). The work per page is bounded, so a filtered page may hold fewer than `limit` items, even none, and
 * still carry a nextToken: follow it.
 */
export const handler = instrument(async (event: APIGatewayProxyEvent): Promise<ProxyResult> => {
  // A client can set requestContext.requestId (x-amzn-RequestId); the extended id is API Gateway's own,
  // and a REST API proxy event always has one.
  const requestId = event.requestContext.extendedRequestId;
  if (!requestId) throw new Error('not an API Gateway REST proxy event: requestContext.extendedRequestId is missing');
  logger.appendKeys({ requestId });
  try {
    const query = parseFindingsQuery(event.queryStringParameters, event.multiValueQueryStringParameters);
    tracer.putAnnotation('org', query.org);
    await authorizeRequest({
      certPem: event.requestContext.identity.clientCert?.clientCertPem,
      method: 'GET',
      orgs: [query.org],
      requestId,
      sourceIp: event.requestContext.identity.sourceIp,
    });
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
  } catch (error) {
    const answer = toHttpError(error, requestId);
    if (answer.statusCode >= 500) logger.error('request failed', describeError(error));
    else if (answer.statusCode === 400) logger.info('request rejected as invalid');
    const response = jsonResponse(answer.statusCode, answer.body);
    return { ...response, headers: { ...response.headers, ...answer.headers } };
  }
});
