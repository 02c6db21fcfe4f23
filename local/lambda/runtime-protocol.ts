/**
 * Messages between the invoker (main thread) and the runtime inside one execution environment
 * (a worker thread). Events and results cross as JSON text, as they cross Lambda's Runtime API.
 */
export interface RuntimeStart {
  /** The function's bundle (esbuild output, CommonJS) and the export the template's Handler names. */
  handlerPath: string;
  exportName: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  /** Enable source maps for stack traces, as NODE_OPTIONS=--enable-source-maps does in Lambda. */
  sourceMaps: boolean;
}

export interface InvokeMessage {
  type: 'invoke';
  requestId: string;
  /** The event as JSON text. */
  event: string;
  /** Epoch milliseconds when the function times out (getRemainingTimeInMillis counts down to it). */
  deadline: number;
  /**
   * Variables set in process.env for this invocation only, the way Lambda sets `_X_AMZN_TRACE_ID`
   * per invocation; removed again when the invocation ends.
   */
  environment: Record<string, string>;
}

export interface ErrorShape {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/**
 * Memory the environment used by the end of an invocation: its V8 heap and the memory outside it
 * (`process.memoryUsage()` inside a worker reports those for the thread alone; only `rss` is the
 * whole process's). The nearest local measure of the REPORT line's `Max Memory Used`.
 */
export interface InvocationMemory {
  maxMemoryUsedBytes: number;
}

export type RuntimeMessage =
  | { type: 'ready' }
  | ({ type: 'init-error' } & ErrorShape)
  | ({ type: 'result'; requestId: string; payload: string } & InvocationMemory)
  | ({ type: 'error'; requestId: string } & ErrorShape & InvocationMemory);

export function errorShape(error: unknown): ErrorShape {
  const failure = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: failure.name || 'Error',
    errorMessage: failure.message,
    trace: (failure.stack ?? '').split('\n'),
  };
}
