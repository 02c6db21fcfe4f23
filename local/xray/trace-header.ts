/**
 * X-Ray trace ids, segment ids and the `X-Amzn-Trace-Id` header, as X-Ray documents them
 * (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids and
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
 * a trace id is `1-` + the epoch second in 8 hex digits + `-` + 96 random bits in 24 hex digits; a segment id
 * is 64 random bits in 16 hex digits; the header reads `Root=<trace id>;Parent=<segment id>;Sampled=1`.
 */
import { randomBytes } from 'node:crypto';

export const TRACE_ID_PATTERN = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
export const SEGMENT_ID_PATTERN = /^[0-9a-f]{16}$/;

export const newTraceId = (now = Date.now()): string =>
  `1-${Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0')}-${randomBytes(12).toString('hex')}`;

export const newSegmentId = (): string => randomBytes(8).toString('hex');

export interface TraceHeader {
  root: string;
  parent?: string;
  sampled?: boolean;
}

/** Reads a trace header; fields that are not well formed are dropped (the value is client-supplied). */
export function parseTraceHeader(value: string | undefined): TraceHeader | undefined {
  if (!value) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.split(';').slice(0, 10)) {
    const equals = part.indexOf('=');
    if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const root = fields.get('Root');
  if (!root || !TRACE_ID_PATTERN.test(root)) return undefined;
  const parent = fields.get('Parent');
  const sampled = fields.get('Sampled');
  return {
    root,
    ...(parent && SEGMENT_ID_PATTERN.test(parent) ? { parent } : {}),
    ...(sampled === '1' || sampled === '0' ? { sampled: sampled === '1' } : {}),
  };
}

export function formatTraceHeader(header: TraceHeader): string {
  return [
    `Root=${header.root}`,
    ...(header.parent ? [`Parent=${header.parent}`] : []),
    ...(header.sampled === undefined ? [] : [`Sampled=${header.sampled ? 1 : 0}`]),
  ].join(';');
}

/**
 * The seam for the Lambda invoker: the variables Lambda sets in a function's environment for one traced
 * invocation ("Defined runtime environment variables",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime):
 * `_X_AMZN_TRACE_ID` (the tracing header, Parent = the function's own segment), `AWS_XRAY_DAEMON_ADDRESS`
 * (`IP:port` of the daemon) and `AWS_XRAY_CONTEXT_MISSING=LOG_ERROR`. `traceHeader` is the header the
 * invoke carries (LocalFunctions.invoke's `traceHeader` option), already pointing at the function segment.
 */
export function lambdaTraceEnvironment(traceHeader: string, daemonAddress: string): Record<string, string> {
  const header = parseTraceHeader(traceHeader);
  if (!header?.parent) throw new Error('A Lambda trace header needs Root and Parent');
  return {
    _X_AMZN_TRACE_ID: formatTraceHeader({ root: header.root, parent: header.parent, sampled: header.sampled ?? true }),
    AWS_XRAY_DAEMON_ADDRESS: daemonAddress,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  };
}
