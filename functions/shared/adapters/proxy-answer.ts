import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { NotFoundError, toHttpError } from '../core/errors';
import { jsonResponse, type ProxyResult } from '../core/responses';
import type { Method } from '../core/authz-policy';
import type { RunOpener } from '../core/scan-run';
import { authorizeRequest, type Authorized } from './authorization';
import { describeError, instrument } from './instrument';
import { logger } from './powertools';

/**
 * The answer of a REST proxy handler that failed: the status and the client-safe message with the request id; the
 * detail goes to the log (5xx), never to the client.
 */
export function errorAnswer(error: unknown, requestId: string): ProxyResult {
  const answer = toHttpError(error, requestId);
  if (answer.statusCode >= 500) logger.error('request failed', describeError(error));
  else if (error instanceof NotFoundError) logger.info('not found', { reason: error.reason });
  else if (answer.statusCode === 400) logger.info('request rejected as invalid');
  const response = jsonResponse(answer.statusCode, answer.body);
  return { ...response, headers: { ...response.headers, ...answer.headers } };
}

/** One REST proxy request as a handler sees it: the event, API Gateway's request id, and the caller's authorization. */
export interface RestRequest {
  event: APIGatewayProxyEvent;
  requestId: string;
  /** Authorizes the client certificate for `method` on `orgs` (the decision logged once); throws ForbiddenError. */
  authorize(method: Method, orgs: string[], opener?: RunOpener): Promise<Authorized>;
}

/**
 * The front every REST proxy function shares: instrumented, API Gateway's own request id on every log line, and any
 * failure answered by errorAnswer.
 */
export function restHandler(handle: (request: RestRequest) => Promise<ProxyResult>) {
  return instrument(async (event: APIGatewayProxyEvent, _context: Context): Promise<ProxyResult> => {
    // A client can set requestContext.requestId (x-amzn-RequestId); the extended id is API Gateway's own,
    // and a REST API proxy event always has one.
    const requestId = event.requestContext.extendedRequestId;
    if (!requestId) throw new Error('not an API Gateway REST proxy event: requestContext.extendedRequestId is missing');
    logger.appendKeys({ requestId });
    const authorize = (method: Method, orgs: string[], opener?: RunOpener) =>
      authorizeRequest({
        certPem: event.requestContext.identity.clientCert?.clientCertPem,
        method,
        orgs,
        requestId,
        sourceIp: event.requestContext.identity.sourceIp,
        ...(opener === undefined ? {} : { opener }),
      });
    try {
      return await handle({ event, requestId, authorize });
    } catch (error) {
      return errorAnswer(error, requestId);
    }
  });
}
