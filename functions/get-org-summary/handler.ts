import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parseSummaryQuery } from '../shared/core/history-query';
import { readSummary } from '../shared/core/org-summary';
import { jsonResponse, type ProxyResult } from '../shared/core/responses';
import { authorizeRequest } from '../shared/adapters/authorization';
import { requireEnv } from '../shared/adapters/config';
import { instrument } from '../shared/adapters/instrument';
import { logger, tracer } from '../shared/adapters/powertools';
import { errorAnswer } from '../shared/adapters/proxy-answer';
import { readSlaPolicy } from '../shared/adapters/sla-policy';
import { getSummaryItem } from '../shared/adapters/summary-repository';

const summaryTable = requireEnv('SUMMARY_TABLE_NAME');

/**
 * GET /vuln/summary?org=ORG: the org's summary (docs/finding-lifecycle.md, "The org summary") for a certificate
 * granted GET on the org. One read of one item, whatever the org's size; the time-dependent figures are computed now.
 */
export const handler = instrument(async (event: APIGatewayProxyEvent): Promise<ProxyResult> => {
  const requestId = event.requestContext.extendedRequestId;
  if (!requestId) throw new Error('not an API Gateway REST proxy event: requestContext.extendedRequestId is missing');
  logger.appendKeys({ requestId });
  try {
    const { org } = parseSummaryQuery(event.queryStringParameters, event.multiValueQueryStringParameters);
    tracer.putAnnotation('org', org);
    await authorizeRequest({
      certPem: event.requestContext.identity.clientCert?.clientCertPem,
      method: 'GET',
      orgs: [org],
      requestId,
      sourceIp: event.requestContext.identity.sourceIp,
    });
    const [item, policy] = await Promise.all([getSummaryItem(summaryTable, org), readSlaPolicy(org)]);
    return jsonResponse(200, readSummary(org, item, new Date(), policy));
  } catch (error) {
    return errorAnswer(error, requestId);
  }
});
