/** Per-request values API Gateway puts in `$context` and in the proxy event's requestContext. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClientCertificateContext, TemplateContext } from './vtl';

export interface StageInfo {
  stage: string;
  apiId: string;
  accountId: string;
  domainName: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (value: number) => String(value).padStart(2, '0');

/** `$context.requestTime`: CLF format, `22/Nov/2026:09:57:07 +0000`. */
export function requestTime(date: Date): string {
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * The two request ids API Gateway gives a REST request. `$context.requestId` is one the client can
 * choose: "Variables for access logging for API Gateway" says of it "Clients can override this request
 * ID" (with an `x-amzn-RequestId` header holding a UUID) and points to `$context.extendedRequestId`
 * for "a unique request ID that API Gateway generates". So the local gateway takes a UUID-formatted
 * x-amzn-RequestId as the requestId, as AWS does, and generates the extended id itself in the form
 * API Gateway uses (`x-amz-apigw-id`, e.g. `BQGojGkEIAMF4ZQ=`: 11 random bytes in base64). Everything
 * this project correlates (execution input, decision log, answer bodies) uses the extended id.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requestIdsOf(request: IncomingMessage): { requestId: string; extendedRequestId: string } {
  const claimed = request.headers['x-amzn-requestid'];
  const requestId = typeof claimed === 'string' && UUID.test(claimed) ? claimed : randomUUID();
  return { requestId, extendedRequestId: randomBytes(11).toString('base64') };
}

/** The client address without the IPv4-mapped IPv6 prefix node adds. */
export function sourceIpOf(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

export function templateContext(
  request: IncomingMessage,
  stage: StageInfo,
  fields: {
    requestId: string;
    extendedRequestId: string;
    httpMethod: string;
    resourcePath: string;
    path: string;
    clientCert: ClientCertificateContext | null;
  },
): TemplateContext {
  const now = new Date();
  const userAgent = request.headers['user-agent'];
  return {
    requestId: fields.requestId,
    extendedRequestId: fields.extendedRequestId,
    httpMethod: fields.httpMethod,
    resourcePath: fields.resourcePath,
    path: fields.path,
    stage: stage.stage,
    requestTime: requestTime(now),
    requestTimeEpoch: now.getTime(),
    protocol: `HTTP/${request.httpVersion}`,
    domainName: stage.domainName,
    apiId: stage.apiId,
    accountId: stage.accountId,
    identity: { sourceIp: sourceIpOf(request), userAgent: userAgent ?? null, clientCert: fields.clientCert },
  };
}
