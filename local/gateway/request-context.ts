/** Per-request values API Gateway puts in `$context` and in the proxy event's requestContext. */
import { randomUUID } from 'node:crypto';
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

/** The client address without the IPv4-mapped IPv6 prefix node adds. */
export function sourceIpOf(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

export function templateContext(
  request: IncomingMessage,
  stage: StageInfo,
  fields: { requestId?: string; httpMethod: string; resourcePath: string; path: string; clientCert: ClientCertificateContext | null },
): TemplateContext {
  const now = new Date();
  const userAgent = request.headers['user-agent'];
  return {
    requestId: fields.requestId ?? randomUUID(),
    extendedRequestId: randomUUID().replace(/-/g, '').slice(0, 16),
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
