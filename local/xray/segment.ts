/**
 * X-Ray segment documents (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html)
 * as the daemon protocol carries them, and the allow-list every stored document passes through.
 *
 * The daemon protocol (aws-xray-daemon cmd/tracing/daemon.go, aws-xray-sdk-node lib/segment_emitter.js):
 * one UDP datagram per document, a header line `{"format":"json","version":1}`, `\n`, then the segment
 * or subsegment as JSON. A datagram without the newline or with another header is dropped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { SEGMENT_ID_PATTERN, TRACE_ID_PATTERN } from './trace-header';

export type AnnotationValue = string | number | boolean;

export interface SegmentException {
  id?: string;
  type?: string;
  message?: string;
  remote?: boolean;
}

export interface SegmentDocument {
  name: string;
  id: string;
  trace_id: string;
  start_time: number;
  end_time?: number;
  in_progress?: boolean;
  parent_id?: string;
  type?: 'subsegment';
  origin?: string;
  resource_arn?: string;
  namespace?: string;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  http?: {
    request?: {
      method?: string;
      url?: string;
      client_ip?: string;
      user_agent?: string;
      x_forwarded_for?: boolean;
      traced?: boolean;
    };
    response?: { status?: number; content_length?: number };
  };
  aws?: Record<string, unknown>;
  annotations?: Record<string, AnnotationValue>;
  metadata?: { default?: { request_id?: string; extended_request_id?: string } };
  cause?: { exceptions?: SegmentException[] } | string;
  subsegments?: SegmentDocument[];
}

/** UDP datagrams above the daemon's 64 KB receive buffer are truncated there; here they are refused. */
export const MAX_DATAGRAM_BYTES = 64 * 1024;
const PROTOCOL_HEADER = '{"format":"json","version":1}';

export function encodeDatagram(document: SegmentDocument): Buffer {
  return Buffer.from(`${PROTOCOL_HEADER}\n${JSON.stringify(document)}`);
}

/** A datagram as the daemon reads it; undefined for anything it would reject. */
export function decodeDatagram(datagram: Buffer): unknown {
  if (datagram.length > MAX_DATAGRAM_BYTES) return undefined;
  const text = datagram.toString('utf8');
  const newline = text.indexOf('\n');
  if (newline < 0 || newline === text.length - 1) return undefined;
  try {
    const header = JSON.parse(text.slice(0, newline)) as { format?: unknown; version?: unknown };
    if (typeof header.format !== 'string' || header.format.toLowerCase() !== 'json' || header.version !== 1)
      return undefined;
    return JSON.parse(text.slice(newline + 1)) as unknown;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ the allow-list
// Trace data is attacker-influenced (URLs, user agents, error messages) and must never carry a
// certificate, a request body or a finding: only the fields below survive, strings are bounded, and a
// PEM block anywhere is replaced.

const MAX_STRING = 250;
const MAX_ANNOTATIONS = 50;
const MAX_DEPTH = 16;
const MAX_CHILDREN = 200;
const PEM_MARKER = /-----BEGIN [A-Z0-9 ]+-----/;
const ANNOTATION_KEY = /^[A-Za-z0-9_]{1,100}$/;

const text = (value: unknown, max = MAX_STRING): string | undefined => {
  if (typeof value !== 'string') return undefined;
  return PEM_MARKER.test(value) ? '[redacted]' : value.slice(0, max);
};
const number = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const flag = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** Drops undefined members so stored JSON holds only what was kept. */
function compact<T extends object>(value: T): T | undefined {
  const entries = Object.entries(value).filter(([, member]) => member !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as T);
}

const AWS_STRING_FIELDS = [
  'account_id',
  'operation',
  'region',
  'request_id',
  'table_name',
  'function_name',
  'state_machine_arn',
  'execution_arn',
  'state_type',
];
const API_GATEWAY_FIELDS = ['account_id', 'rest_api_id', 'stage', 'request_id'];

function sanitizeAws(value: unknown): Record<string, unknown> | undefined {
  const aws = record(value);
  if (!aws) return undefined;
  const kept: Record<string, unknown> = {};
  for (const field of AWS_STRING_FIELDS) kept[field] = text(aws[field]);
  kept.retries = number(aws.retries);
  const apiGateway = record(aws.api_gateway);
  if (apiGateway)
    kept.api_gateway = compact(Object.fromEntries(API_GATEWAY_FIELDS.map((field) => [field, text(apiGateway[field])])));
  const xray = record(aws.xray);
  if (xray)
    kept.xray = compact({
      sdk: text(xray.sdk),
      sdk_version: text(xray.sdk_version),
      sampling_rule_name: text(xray.sampling_rule_name),
    });
  return compact(kept);
}

function sanitizeCause(value: unknown): SegmentDocument['cause'] {
  if (typeof value === 'string') return SEGMENT_ID_PATTERN.test(value) ? value : undefined;
  const cause = record(value);
  if (!cause || !Array.isArray(cause.exceptions)) return undefined;
  // No stack, no working directory, no paths: the exception's id, type and bounded message only.
  const exceptions = cause.exceptions.slice(0, 10).map((entry) => {
    const exception = record(entry) ?? {};
    return (
      compact<SegmentException>({
        id: text(exception.id, 16),
        type: text(exception.type, 100),
        message: text(exception.message),
        remote: flag(exception.remote),
      }) ?? {}
    );
  });
  return { exceptions };
}

function sanitizeAnnotations(value: unknown): Record<string, AnnotationValue> | undefined {
  const annotations = record(value);
  if (!annotations) return undefined;
  const kept: Record<string, AnnotationValue> = {};
  for (const [key, member] of Object.entries(annotations).slice(0, MAX_ANNOTATIONS)) {
    if (!ANNOTATION_KEY.test(key) && !/^aws:[a-z_]{1,40}$/.test(key)) continue;
    const kept_ = typeof member === 'string' ? text(member) : typeof member === 'boolean' ? member : number(member);
    if (kept_ !== undefined) kept[key] = kept_;
  }
  return compact(kept);
}

function sanitizeHttp(value: unknown): SegmentDocument['http'] {
  const http = record(value);
  if (!http) return undefined;
  const request = record(http.request);
  const response = record(http.response);
  return compact({
    request: request
      ? compact({
          method: text(request.method, 16),
          url: text(request.url),
          client_ip: text(request.client_ip, 64),
          user_agent: text(request.user_agent),
          x_forwarded_for: flag(request.x_forwarded_for),
          traced: flag(request.traced),
        })
      : undefined,
    response: response
      ? compact({ status: number(response.status), content_length: number(response.content_length) })
      : undefined,
  });
}

/** The document with only the allowed fields, or undefined when it is not a well-formed (sub)segment. */
export function sanitizeSegment(
  value: unknown,
  depth = 0,
  inherited?: { trace_id: string },
): SegmentDocument | undefined {
  const input = record(value);
  if (!input || depth > MAX_DEPTH) return undefined;
  const traceId = typeof input.trace_id === 'string' ? input.trace_id : inherited?.trace_id;
  const id = input.id;
  const name = text(input.name, 200);
  const start = number(input.start_time);
  if (
    !traceId ||
    !TRACE_ID_PATTERN.test(traceId) ||
    typeof id !== 'string' ||
    !SEGMENT_ID_PATTERN.test(id) ||
    !name ||
    start === undefined
  )
    return undefined;
  const parentId =
    typeof input.parent_id === 'string' && SEGMENT_ID_PATTERN.test(input.parent_id) ? input.parent_id : undefined;
  const metadata = record(record(input.metadata)?.default);
  const children = Array.isArray(input.subsegments) ? input.subsegments.slice(0, MAX_CHILDREN) : [];
  const subsegments = children
    .map((child) => sanitizeSegment(child, depth + 1, { trace_id: traceId }))
    .filter((child): child is SegmentDocument => child !== undefined);
  const document: SegmentDocument = {
    name,
    id,
    trace_id: traceId,
    start_time: start,
    end_time: number(input.end_time),
    in_progress: input.in_progress === true ? true : undefined,
    parent_id: parentId,
    type: input.type === 'subsegment' ? 'subsegment' : undefined,
    origin: text(input.origin, 64),
    resource_arn: text(input.resource_arn),
    namespace: input.namespace === 'aws' || input.namespace === 'remote' ? input.namespace : undefined,
    error: flag(input.error),
    fault: flag(input.fault),
    throttle: flag(input.throttle),
    http: sanitizeHttp(input.http),
    aws: sanitizeAws(input.aws),
    annotations: sanitizeAnnotations(input.annotations),
    metadata: metadata
      ? compact({
          default: compact({
            request_id: text(metadata.request_id, 64),
            extended_request_id: text(metadata.extended_request_id, 64),
          }),
        })
      : undefined,
    cause: sanitizeCause(input.cause),
    subsegments: subsegments.length > 0 ? subsegments : undefined,
  };
  if (depth > 0) delete (document as Partial<SegmentDocument>).trace_id;
  return compact(document) as SegmentDocument;
}

// ------------------------------------------------------------------ sending

/** Where the local stack's own services (gateway, state machine, Lambda service) put their segments. */
export interface SegmentSink {
  send(document: SegmentDocument): void;
}

/** Sends each document to an X-Ray daemon over UDP, as the X-Ray SDK does. */
export function udpSegmentSink(address: { host: string; port: number }): SegmentSink & { close(): void } {
  let socket: Socket | undefined;
  return {
    send: (document) => {
      socket ??= createSocket('udp4').unref();
      const datagram = encodeDatagram(document);
      socket.send(datagram, address.port, address.host);
    },
    close: () => socket?.close(),
  };
}
