/**
 * The `aws_proxy` integration of GET /vuln: the request becomes API Gateway's REST proxy event, the
 * function runs through the local Lambda invoker, and its result becomes the answer. A function
 * error or a result that is not a proxy response is API Gateway's 502.
 */
import { emptyMap, lastValues, rawHeaderValues, type MultiValues } from './headers';
import type { IncomingMessage } from 'node:http';
import { withTimeout, type HttpAnswer } from './http-answer';
import type { GatewayLog } from './log';
import type { ProxyIntegration } from './openapi';
import type { TemplateContext } from './vtl';
import { LambdaServiceError, type InvokeOptions } from '../lambda/invoker';

export interface FunctionInvoker {
  invoke(
    functionId: string,
    event: unknown,
    options?: { requestId?: string; traceHeader?: string; caller?: InvokeCaller },
  ): Promise<unknown>;
}
type InvokeCaller = NonNullable<InvokeOptions['caller']>;

export type ProxyOutcome =
  | { kind: 'answer'; answer: HttpAnswer }
  | { kind: 'bad-gateway' }
  | { kind: 'timeout' }
  | { kind: 'configuration-error' };

type Multi = MultiValues;

/** Headers with the case the client sent, as API Gateway passes them. */
function headersOf(request: IncomingMessage): { single: Record<string, string>; multi: Multi } {
  const multi = rawHeaderValues(request);
  return { single: lastValues(multi), multi };
}

/**
 * Query parameters in null-prototype maps, so a parameter named `constructor` or `__proto__` is a
 * plain key; API Gateway gives null, not {}, when there are none.
 */
export function queryOf(search: URLSearchParams): { single: Record<string, string> | null; multi: Multi | null } {
  const multi = emptyMap<string[]>();
  for (const [name, value] of search) (multi[name] ??= []).push(value);
  if (Object.keys(multi).length === 0) return { single: null, multi: null };
  return { single: lastValues(multi), multi };
}

export function proxyEvent(
  request: IncomingMessage,
  url: URL,
  context: TemplateContext,
  pathParameters: Record<string, string>,
) {
  const headers = headersOf(request);
  // API Gateway adds these in front of the integration.
  const forwarded = {
    'X-Forwarded-For': context.identity.sourceIp,
    'X-Forwarded-Port': String(request.socket.localPort ?? ''),
    'X-Forwarded-Proto': 'https',
  };
  for (const [name, value] of Object.entries(forwarded)) {
    headers.single[name] = value;
    headers.multi[name] = [value];
  }
  const query = queryOf(url.searchParams);
  return {
    resource: context.resourcePath,
    path: url.pathname,
    httpMethod: context.httpMethod,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: Object.keys(pathParameters).length === 0 ? null : pathParameters,
    stageVariables: null,
    requestContext: {
      resourceId: 'local',
      resourcePath: context.resourcePath,
      httpMethod: context.httpMethod,
      extendedRequestId: context.extendedRequestId,
      requestTime: context.requestTime,
      path: context.path,
      accountId: context.accountId,
      protocol: context.protocol,
      stage: context.stage,
      domainPrefix: context.domainName.split('.')[0],
      requestTimeEpoch: context.requestTimeEpoch,
      requestId: context.requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: context.identity.sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: context.identity.userAgent,
        user: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: context.identity.clientCert,
      },
      domainName: context.domainName,
      deploymentId: 'local',
      apiId: context.apiId,
    },
    body: null as string | null,
    isBase64Encoded: false,
  };
}

const PROXY_RESULT_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded', 'cookies']);
const isStringMap = (value: unknown, item: (entry: unknown) => boolean) =>
  value === undefined ||
  value === null ||
  (typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(item));

/** The proxy result as an answer, or undefined when API Gateway would call it malformed. */
export function answerFromProxyResult(result: unknown): HttpAnswer | undefined {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return undefined;
  const fields = result as Record<string, unknown>;
  if (Object.keys(fields).some((key) => !PROXY_RESULT_KEYS.has(key))) return undefined;
  const status = Number(fields.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return undefined;
  const scalar = (entry: unknown) => ['string', 'number', 'boolean'].includes(typeof entry);
  if (!isStringMap(fields.headers, scalar)) return undefined;
  if (!isStringMap(fields.multiValueHeaders, (entry) => Array.isArray(entry) && entry.every(scalar))) return undefined;
  if (fields.body !== undefined && fields.body !== null && typeof fields.body !== 'string') return undefined;
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries((fields.multiValueHeaders ?? {}) as Record<string, unknown[]>))
    headers[name] = values.map(String).join(', ');
  for (const [name, value] of Object.entries((fields.headers ?? {}) as Record<string, unknown>))
    headers[name] = String(value);
  const text = (fields.body as string | null | undefined) ?? '';
  const body = fields.isBase64Encoded === true ? Buffer.from(text, 'base64').toString('utf8') : text;
  return { status, headers, body };
}

export async function invokeProxyIntegration(
  integration: ProxyIntegration,
  event: ReturnType<typeof proxyEvent>,
  invoker: FunctionInvoker,
  log: GatewayLog,
  caller?: InvokeCaller,
): Promise<ProxyOutcome> {
  try {
    const result = await withTimeout(
      invoker.invoke(integration.functionArn, event, caller ? { caller } : {}),
      integration.timeoutMs,
    );
    if (result === 'timeout') return { kind: 'timeout' };
    const answer = answerFromProxyResult(result);
    if (!answer) {
      log({
        level: 'ERROR',
        requestId: event.requestContext.extendedRequestId,
        message: 'Execution failed due to configuration error: Malformed Lambda proxy response',
      });
      return { kind: 'bad-gateway' };
    }
    return { kind: 'answer', answer };
  } catch (error) {
    // Lambda refused API Gateway (no permission matches the route): a configuration error, answered 500.
    if (error instanceof LambdaServiceError && error.statusCode === 403) {
      log({
        level: 'ERROR',
        requestId: event.requestContext.extendedRequestId,
        message: 'Execution failed due to configuration error: Invalid permissions on Lambda function',
      });
      return { kind: 'configuration-error' };
    }
    log({
      level: 'ERROR',
      requestId: event.requestContext.extendedRequestId,
      message: 'Lambda execution failed',
      errorType: (error as Error).name,
    });
    return { kind: 'bad-gateway' };
  }
}
