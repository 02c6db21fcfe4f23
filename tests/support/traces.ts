import type { TraceStore, StoredTrace } from '../../local/xray/store';

/**
 * Waits (bounded: 200 polls of 50 ms) until the store holds the trace with every document complete and
 * at least `documents` of them; segments travel over UDP, so they arrive shortly after the response.
 */
export async function completeTrace(store: TraceStore, traceId: string, documents = 1): Promise<StoredTrace> {
  for (let poll = 0; poll < 200; poll += 1) {
    const trace = store.get(traceId);
    if (trace && trace.documents.length >= documents && trace.documents.every((document) => !document.in_progress))
      return trace;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `trace ${traceId} incomplete: ${JSON.stringify(store.get(traceId)?.documents.map((document) => [document.name, document.in_progress]))}`,
  );
}

/** The Root of an X-Amzn-Trace-Id response header. */
export function rootOf(header: string | string[] | undefined): string {
  const root = /Root=(1-[0-9a-f]{8}-[0-9a-f]{24})/.exec(String(header))?.[1];
  if (!root) throw new Error(`no trace id in ${String(header)}`);
  return root;
}
