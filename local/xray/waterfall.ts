/**
 * One trace as a person reads it: a summary line (time, method, path, status, latency and the
 * annotations a trace viewer filters on) and a waterfall of its segments and subsegments, each with its
 * offset, duration and outcome. The web page and `npm run traces` both render these rows.
 */
import type { AnnotationValue, SegmentDocument } from './segment';
import { startOf, type StoredTrace } from './store';

/** The annotations the handlers and services put, shown as columns and offered as filters. */
export const SUMMARY_ANNOTATIONS = ['org', 'principalOu', 'findingCount', 'decision'] as const;

export interface TraceSummary {
  traceId: string;
  /** Epoch milliseconds. */
  time: number;
  method?: string;
  path?: string;
  status?: number;
  latencyMs?: number;
  annotations: Record<string, AnnotationValue>;
  error: boolean;
  fault: boolean;
  inProgress: boolean;
}

export interface WaterfallRow {
  id: string;
  name: string;
  kind: string;
  depth: number;
  offsetMs: number;
  durationMs: number | undefined;
  error: boolean;
  fault: boolean;
  throttle: boolean;
  inProgress: boolean;
  annotations: Record<string, AnnotationValue>;
  exception?: string;
}

interface Node {
  document: SegmentDocument;
  children: Node[];
}

/** Every segment and subsegment of the trace, nested ones included. */
function flatten(documents: SegmentDocument[]): SegmentDocument[] {
  const out: SegmentDocument[] = [];
  const visit = (document: SegmentDocument) => {
    out.push(document);
    for (const child of document.subsegments ?? []) visit({ ...child, parent_id: document.id });
  };
  documents.forEach(visit);
  return out;
}

function tree(documents: SegmentDocument[]): Node[] {
  const nodes = new Map<string, Node>();
  for (const document of flatten(documents)) nodes.set(document.id, { document, children: [] });
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.document.parent_id === undefined ? undefined : nodes.get(node.document.parent_id);
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: Node, b: Node) => a.document.start_time - b.document.start_time;
  for (const node of nodes.values()) node.children.sort(byStart);
  return roots.sort(byStart);
}

const exceptionOf = (document: SegmentDocument): string | undefined => {
  const exception = typeof document.cause === 'object' ? document.cause.exceptions?.[0] : undefined;
  return exception ? [exception.type, exception.message].filter(Boolean).join(': ') || undefined : undefined;
};

const kindOf = (document: SegmentDocument): string => {
  if (document.origin) return document.origin;
  if (typeof document.aws?.state_type === 'string') return `${document.aws.state_type} state`;
  if (document.namespace) return `${document.namespace} call`;
  return document.type === 'subsegment' || document.parent_id !== undefined ? 'subsegment' : 'segment';
};

export function waterfall(trace: StoredTrace): WaterfallRow[] {
  const start = startOf(trace);
  const rows: WaterfallRow[] = [];
  const visit = (node: Node, depth: number, seen: Set<string>) => {
    if (seen.has(node.document.id) || rows.length >= 500) return;
    seen.add(node.document.id);
    const document = node.document;
    rows.push({
      id: document.id,
      name: document.name,
      kind: kindOf(document),
      depth,
      offsetMs: Math.round((document.start_time - start) * 1000 * 10) / 10,
      durationMs:
        document.end_time === undefined
          ? undefined
          : Math.round((document.end_time - document.start_time) * 1000 * 10) / 10,
      error: document.error === true,
      fault: document.fault === true,
      throttle: document.throttle === true,
      inProgress: document.in_progress === true || document.end_time === undefined,
      annotations: document.annotations ?? {},
      ...(exceptionOf(document) ? { exception: exceptionOf(document) } : {}),
    });
    for (const child of node.children) visit(child, depth + 1, seen);
  };
  const seen = new Set<string>();
  for (const root of tree(trace.documents)) visit(root, 0, seen);
  return rows;
}

export function summarize(trace: StoredTrace): TraceSummary {
  const all = flatten(trace.documents);
  const stage =
    all.find((document) => document.origin === 'AWS::ApiGateway::Stage') ??
    all.find((document) => document.parent_id === undefined) ??
    all[0];
  const annotations: Record<string, AnnotationValue> = {};
  for (const document of all) {
    for (const [key, value] of Object.entries(document.annotations ?? {}))
      if (!key.startsWith('aws:') && !(key in annotations)) annotations[key] = value;
  }
  let path: string | undefined;
  try {
    path = stage?.http?.request?.url === undefined ? undefined : new URL(stage.http.request.url).pathname;
  } catch {
    path = undefined;
  }
  return {
    traceId: trace.traceId,
    time: Math.round(startOf(trace) * 1000),
    method: stage?.http?.request?.method,
    path,
    status: stage?.http?.response?.status,
    latencyMs: stage?.end_time === undefined ? undefined : Math.round((stage.end_time - stage.start_time) * 1000),
    annotations,
    error: all.some((document) => document.error === true),
    fault: all.some((document) => document.fault === true),
    inProgress: all.some((document) => document.in_progress === true),
  };
}

/** Annotation filters: every given key must equal the trace's annotation (compared as text). */
export function matches(summary: TraceSummary, filters: Record<string, string>): boolean {
  return Object.entries(filters).every(
    ([key, wanted]) => summary.annotations[key] !== undefined && String(summary.annotations[key]) === wanted,
  );
}

export function recentTraces(
  traces: StoredTrace[],
  options: { last?: number; filters?: Record<string, string> } = {},
): StoredTrace[] {
  const selected = traces.filter((trace) => matches(summarize(trace), options.filters ?? {}));
  return selected.slice(0, Math.max(0, options.last ?? selected.length));
}

// ------------------------------------------------------------------ terminal

const BAR_WIDTH = 40;

/** Control characters out, so trace text cannot move the cursor or recolour a terminal. */
const printable = (value: string) => Array.from(value, (char) => (/\p{Cc}/u.test(char) ? '?' : char)).join('');

export function summaryLine(summary: TraceSummary): string {
  const annotations = SUMMARY_ANNOTATIONS.filter((key) => summary.annotations[key] !== undefined).map(
    (key) => `${key}=${String(summary.annotations[key])}`,
  );
  return printable(
    [
      new Date(summary.time).toISOString(),
      summary.method ?? '-',
      summary.path ?? '-',
      summary.status ?? '-',
      summary.latencyMs === undefined ? '-' : `${summary.latencyMs} ms`,
      ...annotations,
      summary.traceId,
    ].join('  '),
  );
}

export function renderWaterfallText(trace: StoredTrace): string {
  const rows = waterfall(trace);
  const total = Math.max(1, ...rows.map((row) => row.offsetMs + (row.durationMs ?? 0)));
  const nameWidth = Math.min(48, Math.max(...rows.map((row) => row.depth * 2 + row.name.length)));
  const lines = rows.map((row) => {
    const label = `${'  '.repeat(row.depth)}${row.name}`.slice(0, nameWidth).padEnd(nameWidth);
    const from = Math.floor((row.offsetMs / total) * BAR_WIDTH);
    const width = Math.max(1, Math.round(((row.durationMs ?? total - row.offsetMs) / total) * BAR_WIDTH));
    const bar =
      `${' '.repeat(from)}${(row.fault || row.error ? 'x' : '█').repeat(Math.min(width, BAR_WIDTH - from))}`.padEnd(
        BAR_WIDTH,
      );
    const outcome = row.fault
      ? 'FAULT'
      : row.error
        ? 'ERROR'
        : row.throttle
          ? 'THROTTLE'
          : row.inProgress
            ? 'IN PROGRESS'
            : '';
    const duration = row.durationMs === undefined ? '…' : `${row.durationMs.toFixed(1)} ms`;
    return printable(
      `${label} |${bar}| ${duration.padStart(10)} ${outcome}${row.exception ? ` (${row.exception})` : ''}`.trimEnd(),
    );
  });
  return [summaryLine(summarize(trace)), ...lines].join('\n');
}

/** `npm run traces`: the newest traces matching the filters, each as its summary and waterfall. */
export function tracesReport(
  traces: StoredTrace[],
  options: { last?: number; filters?: Record<string, string> } = {},
): string {
  const selected = recentTraces(traces, options);
  if (selected.length === 0) return 'No traces match. Start the stack (npm start), send a request, and try again.';
  return selected.map(renderWaterfallText).join('\n\n');
}
