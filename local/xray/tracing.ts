/**
 * Tracing for the local stack in one piece: the trace store, the X-Ray daemon feeding it, and the sink
 * the stack's own services (gateway, state machine, Lambda service) send their segments to through
 * that daemon, the way AWS services and the X-Ray SDK report to X-Ray.
 */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../cloudformation/template';
import { startXRayDaemon, type XRayDaemon } from './daemon';
import { udpSegmentSink, type SegmentSink } from './segment';
import { TraceStore } from './store';

/** Where `npm start` keeps traces and `npm run traces` reads them. */
export const DEFAULT_TRACES_DIR = join(PROJECT_ROOT, '.local/traces');

export interface LocalTracingOptions {
  /** Where traces are kept; omitted = memory only. */
  dir?: string;
  /** UDP port of the daemon; default 2000, 0 = a random free port. */
  daemonPort?: number;
  maxTraces?: number;
}

export interface LocalTracing {
  store: TraceStore;
  daemon: XRayDaemon;
  sink: SegmentSink;
  close(): Promise<void>;
}

export async function startLocalTracing(options: LocalTracingOptions = {}): Promise<LocalTracing> {
  const store = new TraceStore({ dir: options.dir, maxTraces: options.maxTraces });
  const daemon = await startXRayDaemon(store, { port: options.daemonPort });
  const sink = udpSegmentSink({ host: daemon.host, port: daemon.port });
  return {
    store,
    daemon,
    sink,
    close: async () => {
      sink.close();
      await daemon.close();
    },
  };
}
