/**
 * The local API Gateway: an HTTPS listener with mutual TLS in front of the routes, validators,
 * mapping templates and gateway responses of api/openapi.yaml, wired to the local backend. The
 * order of checks follows API Gateway's: client certificate (custom domain), route, throttling,
 * payload size, request validation, media type, then the integration.
 */
import { loadStackTemplate } from '../cloudformation/nested-stacks';
import { constants } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { errorBody } from '../../functions/shared/core/errors';
import { MAX_BODY_BYTES } from '../../functions/shared/core/limits';
import { LOCAL_ACCOUNT, LOCAL_API_ID, LOCAL_PARTITION, LOCAL_REGION } from '../aws-local';
import type { IamGate } from '../iam/gate';
import { invokeAwsIntegration, type StateMachineTarget } from './aws-integration';
import { readBody, type BodyResult } from '../http-body';
import { clientCertificateOf } from './client-certificate';
import { truststoreFingerprints } from '../truststore';
import { defaultResponseHeaders, gatewayResponse, type GatewayResponseType } from './gateway-responses';
import type { HttpAnswer } from './http-answer';
import { jsonLineLog, type GatewayLog } from './log';
import { loadApiDefinition, matchResource, OPENAPI_PATH, type IntrinsicResolver } from './openapi';
import { invokeProxyIntegration, proxyEvent, type FunctionInvoker } from './proxy-integration';
import { requestIdsOf, sourceIpOf, templateContext, type StageInfo } from './request-context';
import { requestParameters, validateRequest } from './request-validation';
import { MethodThrottle, type ThrottleSettings } from './throttle';
import type { TemplateContext } from './vtl';
import type { CfnTemplate } from '../cloudformation/template';
import { webAclFromTemplate, type WafMatch, type WafRequest } from './waf';
import { apiGatewayTracer, apiNameFromTemplate, TRACE_HEADER, type StageTrace } from '../xray/api-gateway';
import type { SegmentSink } from '../xray/segment';

/** AEAD suites with forward secrecy only; TLS 1.3 suites are all AEAD. */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface GatewayBackend {
  stateMachine: StateMachineTarget;
  /** Further state machines the API's integrations may start (scan runs), by ARN. */
  stateMachines?: Record<string, StateMachineTarget>;
  functions: FunctionInvoker;
  resolver: IntrinsicResolver;
  /** With tracing on, the stage's segments go here (the local X-Ray daemon). */
  tracing?: { sink: SegmentSink };
  /** IAM on the integrations' calls (the credentials role's StartSyncExecution, API Gateway's Lambda invoke). */
  iam?: { gate: IamGate } | undefined;
}

export interface GatewayOptions {
  backend: GatewayBackend;
  /** The server certificate and key (PEM). */
  tls: { certPem: string; keyPem: string };
  /** CA bundle (PEM) client certificates must chain to. */
  truststorePem: string;
  /** Default 3443; 0 = a random free port. */
  port?: number;
  /** Default 127.0.0.1: the local stack never listens beyond loopback. */
  host?: string;
  /** Defaults: the template's ThrottlingRateLimit / ThrottlingBurstLimit parameters (overrides applied). */
  throttle?: Partial<ThrottleSettings>;
  maxBodyBytes?: number;
  /** WafOversizeBodyAction for the WAF size rule, over the stack's parameter value (tests). */
  wafOversizeBodyAction?: 'Block' | 'Count';
  log?: GatewayLog;
  openApiPath?: string;
}

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Stage settings from the template's parameters, overrides included (`--parameter-overrides`, samconfig.toml). */
function stageSettings(resolver: IntrinsicResolver): { throttle: ThrottleSettings; stage: string } {
  const parameter = (name: string) => resolver.resolve({ Ref: name });
  return {
    throttle: {
      rateLimit: Number(parameter('ThrottlingRateLimit')),
      burstLimit: Number(parameter('ThrottlingBurstLimit')),
    },
    stage: String(parameter('StageName')),
  };
}

/** The template's parameters as the stack resolves them (overrides, else defaults); those with neither are left out. */
function parameterValues(template: CfnTemplate, resolver: IntrinsicResolver): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(template.Parameters ?? {})) {
    try {
      values[name] = String(resolver.resolve({ Ref: name }));
    } catch {
      // A parameter without a default that nobody overrides: nothing the web ACL can read.
    }
  }
  return values;
}

/** How AWS WAF logs name a rule match (terminatingRuleId, ruleGroupList[].terminatingRule.ruleId). */
const wafLogFields = (match: WafMatch) => ({
  ruleId: match.ruleName,
  ruleType: match.ruleType,
  ...(match.ruleGroupId ? { ruleGroupId: match.ruleGroupId, ruleIdWithinGroup: match.ruleId } : {}),
  action: match.action,
});

/** What WAF inspects of a request: the path and query string as sent, headers, the body's size. */
function wafRequestOf(request: IncomingMessage, read: BodyResult, sourceIp: string): WafRequest {
  const target = request.url ?? '/';
  const question = target.indexOf('?');
  return {
    method: request.method ?? 'GET',
    path: question < 0 ? target : target.slice(0, question),
    queryString: question < 0 ? '' : target.slice(question + 1),
    headers: request.headers,
    bodyBytes: read.ok ? read.body.length : read.reason === 'too-large' ? Infinity : 0,
    sourceIp,
  };
}

/** Media type without parameters; API Gateway treats a request without Content-Type as JSON. */
const mediaTypeOf = (header: string | undefined) =>
  header ? (header.split(';')[0] as string).trim().toLowerCase() : 'application/json';

/** API Gateway sends both ids back: x-amzn-RequestId ($context.requestId) and x-amz-apigw-id ($context.extendedRequestId). */
function send(
  response: ServerResponse,
  answer: HttpAnswer,
  ids: { requestId: string; extendedRequestId: string },
  close = false,
  trace?: StageTrace,
): void {
  if (response.headersSent) return;
  const headers: Record<string, string> = {
    ...answer.headers,
    'x-amzn-RequestId': ids.requestId,
    'x-amz-apigw-id': ids.extendedRequestId,
  };
  // With active tracing, API Gateway returns the request's trace id.
  if (trace) headers[TRACE_HEADER] = trace.responseHeader;
  if (close) headers.Connection = 'close';
  response.writeHead(answer.status, headers);
  response.end(answer.body);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const api = loadApiDefinition(options.backend.resolver, options.openApiPath ?? OPENAPI_PATH);
  const defaults = stageSettings(options.backend.resolver);
  const throttle = new MethodThrottle({ ...defaults.throttle, ...options.throttle });
  const log = options.log ?? jsonLineLog;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  // Read once at start-up: the root template with its nested layers (the WAF lives in one of them).
  const stackTemplate = loadStackTemplate();
  const waf = webAclFromTemplate(stackTemplate, {
    ...parameterValues(stackTemplate, options.backend.resolver),
    ...(options.wafOversizeBodyAction ? { WafOversizeBodyAction: options.wafOversizeBodyAction } : {}),
  });
  if (waf?.notEmulated.length)
    log({
      level: 'INFO',
      message: 'WAF rules the local gateway does not apply (docs/local-stack.md)',
      rules: waf.notEmulated.map((entry) => entry.rule),
    });
  const host = options.host ?? '127.0.0.1';
  const truststore = truststoreFingerprints(options.truststorePem);
  const stage: StageInfo = {
    stage: defaults.stage,
    apiId: LOCAL_API_ID,
    accountId: LOCAL_ACCOUNT,
    domainName: 'localhost',
  };
  const tracer = options.backend.tracing
    ? apiGatewayTracer(options.backend.tracing.sink, {
        ...stage,
        apiName: apiNameFromTemplate(stackTemplate, options.backend.resolver),
        region: LOCAL_REGION,
      })
    : undefined;

  const refuse = (
    type: GatewayResponseType,
    message: string,
    context: TemplateContext,
    extra: { status?: number; validationErrorString?: string } = {},
  ) => gatewayResponse(api, type, message, context, extra);

  async function route(
    request: IncomingMessage,
    url: URL,
    context: TemplateContext,
    read: BodyResult,
    backend: GatewayBackend,
  ): Promise<{ answer: HttpAnswer; close?: boolean }> {
    const matched = matchResource(api, url.pathname);
    const method = request.method ?? 'GET';
    const operation = matched?.operations.get(method) ?? matched?.operations.get('ANY');
    // API Gateway answers an unknown path and a known path's missing method alike.
    if (!matched || !operation)
      return { answer: refuse('MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token', context) };
    context.resourcePath = matched.resourcePath;
    if (!throttle.allow(`${operation.method} ${operation.resourcePath}`))
      return { answer: refuse('THROTTLED', 'Too Many Requests', context) };

    if (!read.ok) {
      if (read.reason === 'too-large')
        return { answer: refuse('REQUEST_TOO_LARGE', 'Request Too Long', context), close: true };
      // The client went away mid-body: nobody is left to answer.
      return {
        answer: {
          status: 400,
          headers: { 'Content-Type': 'application/json', ...defaultResponseHeaders(api, 400) },
          body: '{"message":"Bad Request"}',
        },
        close: true,
      };
    }
    const body = read.body.toString('utf8');
    const params = requestParameters(request, url, matched.pathParameters);
    const contentType = mediaTypeOf(request.headers['content-type']);

    const invalid = validateRequest(operation, params, contentType, body);
    if (invalid)
      return {
        answer: refuse(invalid.type, invalid.message, context, {
          validationErrorString: invalid.validationErrorString,
        }),
      };

    const integration = operation.integration;
    if (integration.type === 'aws') {
      const awsOperation = { ...operation, integration };
      if (integration.passthroughBehavior === 'never' && !(contentType in integration.requestTemplates)) {
        return { answer: refuse('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type', context) };
      }
      const outcome = await invokeAwsIntegration(
        awsOperation,
        { contentType, body, params },
        context,
        [backend.stateMachine, ...Object.values(options.backend.stateMachines ?? {})],
        log,
        backend.iam?.gate,
      );
      if (outcome.kind === 'answer') return { answer: outcome.answer };
      if (outcome.kind === 'timeout')
        return { answer: refuse('INTEGRATION_TIMEOUT', 'Endpoint request timed out', context) };
      return { answer: refuse('API_CONFIGURATION_ERROR', 'Internal server error', context) };
    }
    const event = proxyEvent(request, url, context, matched.pathParameters);
    event.body = read.body.length === 0 ? null : body;
    // API Gateway invokes as itself, from this route: the function's resource policy decides, on the route's
    // execute-api ARN (stage, method, resource path) as aws:SourceArn ("Grant API Gateway permission to invoke
    // your Lambda function", API Gateway Developer Guide).
    const sourceArn = `arn:${LOCAL_PARTITION}:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${LOCAL_API_ID}/${stage.stage}/${operation.method}${matched.resourcePath}`;
    const outcome = await invokeProxyIntegration(integration, event, backend.functions, log, {
      principal: { kind: 'service', service: 'apigateway.amazonaws.com' },
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': LOCAL_ACCOUNT },
    });
    if (outcome.kind === 'answer') return { answer: outcome.answer };
    if (outcome.kind === 'timeout')
      return { answer: refuse('INTEGRATION_TIMEOUT', 'Endpoint request timed out', context) };
    if (outcome.kind === 'configuration-error')
      return { answer: refuse('API_CONFIGURATION_ERROR', 'Internal server error', context) };
    return { answer: refuse('INTEGRATION_FAILURE', 'Internal server error', context, { status: 502 }) };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const ids = requestIdsOf(request);
    // The id the client cannot choose is the one logs and answers carry.
    const requestId = ids.extendedRequestId;
    const sourceIp = sourceIpOf(request);
    const url = new URL(request.url ?? '/', 'https://localhost');
    const certificate = clientCertificateOf(request.socket as TLSSocket, truststore);
    let status = 403;
    let trace: StageTrace | undefined;
    let responseBytes = 0;
    try {
      if (!certificate.ok) {
        // The custom domain refuses the client before any route, stage or gateway response applies.
        log({ level: 'WARN', message: 'client certificate refused', reason: certificate.reason, requestId, sourceIp });
        send(
          response,
          {
            status: 403,
            headers: { 'Content-Type': 'application/json', ...defaultResponseHeaders(api, 403) },
            body: '{"message":"Forbidden"}',
          },
          ids,
        );
        return;
      }
      const context = templateContext(request, stage, {
        ...ids,
        httpMethod: request.method ?? 'GET',
        resourcePath: url.pathname,
        path: url.pathname,
        clientCert: certificate.certificate,
      });
      // WAF sees the request before API Gateway does (waf.ts): its rules come before any route.
      const read = await readBody(request, maxBodyBytes);
      const verdict = waf?.evaluate(wafRequestOf(request, read, sourceIp));
      if (verdict?.counted.length)
        log({
          level: 'INFO',
          message: 'WAF rules counted the request',
          requestId,
          sourceIp,
          nonTerminatingMatchingRules: verdict.counted.map(wafLogFields),
        });
      if (verdict?.blocked) {
        const answer = verdict.blocked.customResponse ?? refuse('WAF_FILTERED', 'Forbidden', context);
        status = answer.status;
        log({
          level: 'WARN',
          message: 'request blocked by the WAF',
          requestId,
          sourceIp,
          terminatingRule: wafLogFields(verdict.blocked.match),
        });
        send(response, answer, ids, !read.ok);
        return;
      }
      trace = tracer?.begin({
        incomingTraceHeader: request.headers['x-amzn-trace-id'] as string | undefined,
        method: context.httpMethod,
        url: `https://${stage.domainName}${request.url ?? '/'}`,
        clientIp: sourceIp,
        userAgent: request.headers['user-agent'],
        requestId,
        extendedRequestId: context.extendedRequestId,
      });
      const { answer, close } = await route(
        request,
        url,
        context,
        read,
        trace ? trace.backend(options.backend) : options.backend,
      );
      status = answer.status;
      responseBytes = Buffer.byteLength(answer.body);
      send(response, answer, ids, close, trace);
    } catch (error) {
      status = 500;
      log({ level: 'ERROR', message: 'gateway failure', requestId, errorType: (error as Error).name });
      send(
        response,
        {
          status: 500,
          headers: { 'Content-Type': 'application/json', ...defaultResponseHeaders(api, 500) },
          body: JSON.stringify(errorBody('internal', requestId)),
        },
        ids,
        true,
        trace,
      );
    } finally {
      trace?.end(status, responseBytes);
      log({
        level: 'INFO',
        message: 'request',
        requestId,
        sourceIp,
        httpMethod: request.method,
        path: url.pathname,
        status,
        principal: certificate.ok ? certificate.certificate.subjectDN : undefined,
        latencyMs: Math.round(performance.now() - started),
      });
    }
  }

  const server: Server = createServer(
    {
      key: options.tls.keyPem,
      cert: options.tls.certPem,
      ca: options.truststorePem,
      requestCert: true,
      // Checked per request instead (socket.authorized), so a refused client gets API Gateway's 403.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ciphers: TLS_CIPHERS,
      honorCipherOrder: true,
      // A renegotiation could swap the client certificate under a kept-alive connection.
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
      requestTimeout: 60_000,
    },
    (request, response) => void handle(request, response),
  );
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    log({
      level: 'WARN',
      message: 'TLS handshake failed',
      reason: error.code ?? error.message,
      sourceIp: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3443, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://localhost:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
