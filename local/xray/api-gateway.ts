/**
 * The API stage's segment, as API Gateway sends it with active tracing on ("Amazon X-Ray traces for
 * Amazon API Gateway APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-understanding-xray-traces.html):
 * name `<api name>/<stage>`, origin `AWS::ApiGateway::Stage`, annotations `aws:api_id` and `aws:api_stage`,
 * `aws.api_gateway` {account_id, rest_api_id, stage, request_id}, `metadata.default` {request_id,
 * extended_request_id}, `http.request` {url, method, client_ip} and `http.response` {status, content_length};
 * 4xx sets `error`, 429 `throttle`, 5xx `fault` (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html#api-segmentdocuments-errors).
 * A valid incoming `X-Amzn-Trace-Id` Root is continued; the client gets the trace id back in
 * `X-Amzn-Trace-Id`. The integration call is a subsegment whose id is the Parent of the trace header
 * handed to the state machine or the function (and, for a proxy integration, in the event's headers).
 */
import { formatTraceHeader, newSegmentId, newTraceId, parseTraceHeader } from './trace-header';
import type { SegmentDocument, SegmentSink } from './segment';
import { resourcesOfType, type CfnTemplate } from '../cloudformation/template';

export const TRACE_HEADER = 'X-Amzn-Trace-Id';

export interface StageIdentity {
  apiName: string;
  stage: string;
  apiId: string;
  accountId: string;
  region: string;
}

export interface StageRequest {
  incomingTraceHeader: string | undefined;
  method: string;
  url: string;
  clientIp: string;
  userAgent: string | undefined;
  requestId: string;
  extendedRequestId: string;
}

/** What the gateway's integrations call, with the trace header as an optional last argument. */
export interface TraceableBackend {
  stateMachine: {
    arn: string;
    startSyncExecution(input: string, name?: string, traceHeader?: string): Promise<unknown>;
  };
  functions: {
    invoke(
      functionId: string,
      event: unknown,
      options?: { requestId?: string; traceHeader?: string },
    ): Promise<unknown>;
  };
}

export interface StageTrace {
  traceId: string;
  /** The `X-Amzn-Trace-Id` response header value. */
  responseHeader: string;
  /** The backend as this request's integrations see it: each call a subsegment, the header passed on. */
  backend<B extends TraceableBackend>(backend: B): B;
  end(status: number, contentLength: number): void;
}

const seconds = () => Date.now() / 1000;

export function apiGatewayTracer(sink: SegmentSink, identity: StageIdentity) {
  const begin = (request: StageRequest): StageTrace => {
    const incoming = parseTraceHeader(request.incomingTraceHeader);
    const traceId = incoming?.root ?? newTraceId();
    const segment: SegmentDocument = {
      name: `${identity.apiName}/${identity.stage}`,
      id: newSegmentId(),
      trace_id: traceId,
      start_time: seconds(),
      ...(incoming?.parent ? { parent_id: incoming.parent } : {}),
      origin: 'AWS::ApiGateway::Stage',
      resource_arn: `arn:aws:apigateway:${identity.region}::/restapis/${identity.apiId}/stages/${identity.stage}`,
      annotations: { 'aws:api_id': identity.apiId, 'aws:api_stage': identity.stage },
      metadata: { default: { extended_request_id: request.extendedRequestId, request_id: request.requestId } },
      http: {
        request: {
          url: request.url,
          method: request.method,
          client_ip: request.clientIp,
          ...(request.userAgent ? { user_agent: request.userAgent } : {}),
        },
      },
      aws: {
        api_gateway: {
          account_id: identity.accountId,
          rest_api_id: identity.apiId,
          stage: identity.stage,
          request_id: request.requestId,
        },
      },
    };
    sink.send({ ...segment, in_progress: true });
    const subsegments: SegmentDocument[] = [];

    async function integrationCall<T>(
      name: string,
      aws: Record<string, unknown>,
      call: (traceHeader: string) => Promise<T>,
    ): Promise<T> {
      const subsegment: SegmentDocument = {
        name,
        id: newSegmentId(),
        trace_id: traceId,
        start_time: seconds(),
        namespace: 'aws',
        aws,
      };
      subsegments.push(subsegment);
      try {
        return await call(formatTraceHeader({ root: traceId, parent: subsegment.id, sampled: true }));
      } catch (error) {
        subsegment.fault = true;
        subsegment.cause = { exceptions: [{ id: newSegmentId(), type: (error as Error).name || 'Error' }] };
        throw error;
      } finally {
        subsegment.end_time = seconds();
      }
    }

    return {
      traceId,
      responseHeader: formatTraceHeader({ root: traceId, sampled: true }),
      backend: <B extends TraceableBackend>(backend: B): B => ({
        ...backend,
        stateMachine: {
          ...backend.stateMachine,
          startSyncExecution: (input: string, name?: string) =>
            integrationCall(
              'STEPFUNCTIONS',
              { operation: 'StartSyncExecution', state_machine_arn: backend.stateMachine.arn },
              (header) => backend.stateMachine.startSyncExecution(input, name, header),
            ),
        },
        functions: {
          ...backend.functions,
          invoke: (functionId: string, event: unknown, options: { requestId?: string } = {}) =>
            integrationCall(
              'Lambda',
              { operation: 'Invoke', function_name: functionId.slice(functionId.lastIndexOf(':') + 1) },
              (header) => {
                // A proxy integration hands the header to the function in the event too.
                const headers = (event as { headers?: Record<string, string> | null }).headers;
                if (headers) headers[TRACE_HEADER] = header;
                const multiValue = (event as { multiValueHeaders?: Record<string, string[]> | null }).multiValueHeaders;
                if (multiValue) multiValue[TRACE_HEADER] = [header];
                return backend.functions.invoke(functionId, event, { ...options, traceHeader: header });
              },
            ),
        },
      }),
      end: (status, contentLength) => {
        sink.send({
          ...segment,
          end_time: seconds(),
          http: { ...segment.http, response: { status, content_length: contentLength } },
          ...(status === 429
            ? { throttle: true, error: true }
            : status >= 500
              ? { fault: true }
              : status >= 400
                ? { error: true }
                : {}),
          ...(subsegments.length > 0 ? { subsegments } : {}),
        });
      },
    };
  };
  return { begin };
}

export type ApiGatewayTracer = ReturnType<typeof apiGatewayTracer>;

/** The REST API's name as deployed (the template's AWS::Serverless::Api `Name`), which X-Ray shows as `<name>/<stage>`. */
export function apiNameFromTemplate(template: CfnTemplate, resolver: { resolve(value: unknown): unknown }): string {
  const api = resourcesOfType(template, 'AWS::Serverless::Api')[0];
  const name = api ? resolver.resolve(api[1].Properties?.Name) : undefined;
  return typeof name === 'string' && name !== '' ? name : 'local-api';
}
