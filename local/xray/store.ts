/**
 * The traces the local X-Ray daemon received, newest N kept, one JSON file per trace under
 * `.local/traces/` (so `npm run traces` and a restarted stack see them). Documents pass the allow-list
 * of segment.ts before they are kept. A document sent again under the same id (an in-progress segment
 * completed later) replaces the earlier one, as X-Ray does.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sanitizeSegment, type SegmentDocument } from './segment';
import { TRACE_ID_PATTERN } from './trace-header';

export const DEFAULT_MAX_TRACES = 200;

export interface StoredTrace {
  traceId: string;
  documents: SegmentDocument[];
}

export interface TraceStoreOptions {
  /** Directory of the trace files; omitted = memory only. */
  dir?: string;
  /** How many traces are kept (the newest); default 200. */
  maxTraces?: number;
}

export class TraceStore {
  private readonly traces = new Map<string, Map<string, SegmentDocument>>();
  private readonly dir: string | undefined;
  private readonly maxTraces: number;

  constructor(options: TraceStoreOptions = {}) {
    this.dir = options.dir;
    this.maxTraces = Math.max(1, options.maxTraces ?? DEFAULT_MAX_TRACES);
    if (this.dir) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.load(this.dir);
    }
  }

  /** Keeps one received document; returns false when it is not a well-formed segment. */
  add(received: unknown): boolean {
    const document = sanitizeSegment(received);
    if (!document) return false;
    let trace = this.traces.get(document.trace_id);
    if (!trace) {
      trace = new Map();
      this.traces.set(document.trace_id, trace);
    }
    const earlier = trace.get(document.id);
    // A late in-progress copy never overwrites the completed document.
    if (!earlier || earlier.in_progress || !document.in_progress) trace.set(document.id, document);
    this.persist(document.trace_id, trace);
    this.evict();
    return true;
  }

  get(traceId: string): StoredTrace | undefined {
    const trace = this.traces.get(traceId);
    return trace ? { traceId, documents: [...trace.values()] } : undefined;
  }

  /** Every trace, newest first (by its earliest start time). */
  all(): StoredTrace[] {
    return [...this.traces.entries()]
      .map(([traceId, documents]) => ({ traceId, documents: [...documents.values()] }))
      .sort((a, b) => startOf(b) - startOf(a));
  }

  private persist(traceId: string, trace: Map<string, SegmentDocument>): void {
    if (!this.dir) return;
    const file = join(this.dir, `${traceId}.json`);
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ traceId, documents: [...trace.values()] }), { mode: 0o600 });
    renameSync(temporary, file);
  }

  private evict(): void {
    if (this.traces.size <= this.maxTraces) return;
    for (const { traceId } of this.all().slice(this.maxTraces)) {
      this.traces.delete(traceId);
      if (this.dir) rmSync(join(this.dir, `${traceId}.json`), { force: true });
    }
  }

  private load(dir: string): void {
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.json') && TRACE_ID_PATTERN.test(name.slice(0, -5)))
      .map((name) => ({ name, modified: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.modified - a.modified);
    for (const { name } of files.slice(0, this.maxTraces)) {
      try {
        const stored = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Partial<StoredTrace>;
        const documents = new Map<string, SegmentDocument>();
        for (const received of stored.documents ?? []) {
          const document = sanitizeSegment(received);
          if (document && document.trace_id === name.slice(0, -5)) documents.set(document.id, document);
        }
        if (documents.size > 0) this.traces.set(name.slice(0, -5), documents);
      } catch {
        // A half-written or foreign file is skipped, never fatal.
      }
    }
    for (const { name } of files.slice(this.maxTraces)) rmSync(join(dir, name), { force: true });
  }
}

export const startOf = (trace: StoredTrace): number =>
  Math.min(...trace.documents.map((document) => document.start_time));

/** Reads the stored traces without listening for new ones (`npm run traces`). */
export const readTraceStore = (dir: string, maxTraces?: number): TraceStore => new TraceStore({ dir, maxTraces });
