/**
 * The Lambda service's part of a trace ("AWS Lambda and AWS X-Ray",
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-services-lambda.html): for an invocation that arrives
 * with a sampled trace header, an `AWS::Lambda` segment (the service, child of the caller's subsegment) and
 * an `AWS::Lambda::Function` segment (the function, child of the service segment). The function segment's
 * id is the Parent of `_X_AMZN_TRACE_ID` in the function's environment, so the X-Ray SDK's subsegments
 * (Powertools Tracer's `## handler`, the DynamoDB calls) hang below it.
 *
 * This wraps the invoker: the inner `invoke` gets `traceHeader` = the header for the function's own
 * environment; an execution environment turns it into variables with `lambdaTraceEnvironment`.
 */
import { randomUUID } from 'node:crypto';
import type { SegmentDocument, SegmentSink } from './segment';
import { formatTraceHeader, newSegmentId, parseTraceHeader } from './trace-header';

export interface InvokeOptions {
  requestId?: string;
  /** The caller's trace header (Parent = the caller's subsegment). */
  traceHeader?: string;
}

export interface TraceableFunctions {
  definitions: { logicalId: string; arn: string }[];
  invoke(functionId: string, event: unknown, options?: InvokeOptions): Promise<unknown>;
}

const seconds = () => Date.now() / 1000;

export function tracedFunctions<F extends TraceableFunctions>(functions: F, sink: SegmentSink | undefined): F {
  if (!sink) return functions;
  const invoke = async (functionId: string, event: unknown, options: InvokeOptions = {}): Promise<unknown> => {
    const header = parseTraceHeader(options.traceHeader);
    if (!header || header.sampled === false) return functions.invoke(functionId, event, options);
    const definition = functions.definitions.find(
      (candidate) => candidate.logicalId === functionId || candidate.arn === functionId,
    );
    const name = definition?.logicalId ?? functionId.slice(functionId.lastIndexOf(':') + 1);
    const requestId = options.requestId ?? randomUUID();
    const service: SegmentDocument = {
      name,
      id: newSegmentId(),
      trace_id: header.root,
      start_time: seconds(),
      ...(header.parent ? { parent_id: header.parent } : {}),
      origin: 'AWS::Lambda',
      ...(definition ? { resource_arn: definition.arn } : {}),
      aws: { request_id: requestId },
    };
    const fn: SegmentDocument = {
      name,
      id: newSegmentId(),
      trace_id: header.root,
      start_time: service.start_time,
      parent_id: service.id,
      origin: 'AWS::Lambda::Function',
      ...(definition ? { resource_arn: definition.arn } : {}),
    };
    try {
      return await functions.invoke(functionId, event, {
        ...options,
        requestId,
        traceHeader: formatTraceHeader({ root: header.root, parent: fn.id, sampled: true }),
      });
    } catch (error) {
      // A function error is the function's fault; the service call itself answered.
      Object.assign(fn, {
        fault: true,
        cause: { exceptions: [{ id: newSegmentId(), type: ((error as Error).name || 'Error').slice(0, 100) }] },
      });
      throw error;
    } finally {
      const end = seconds();
      sink.send({ ...service, end_time: end, http: { response: { status: 200 } } });
      sink.send({ ...fn, end_time: end });
    }
  };
  return { ...functions, invoke };
}
