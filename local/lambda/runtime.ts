/**
 * The Node.js runtime inside one execution environment (a worker thread): the init phase loads the
 * function's bundle once, then invocations run one at a time, each with a Lambda context, the event
 * parsed from JSON and the result serialized to JSON, errors reported as `{errorType, errorMessage,
 * trace}`, as the Lambda Runtime API carries them
 * (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
 * Bundled by esbuild (local/lambda/bundle.ts) and started by execution-environment.ts; never imported.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { errorShape, type InvokeMessage, type RuntimeMessage, type RuntimeStart } from './runtime-protocol';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const start = workerData as RuntimeStart;
const port = parentPort;
if (!port) throw new Error('runtime.ts runs inside a worker thread');
const send = (message: RuntimeMessage) => port.postMessage(message);

function context(message: InvokeMessage): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: start.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: start.functionArn,
    memoryLimitInMB: String(start.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${start.functionName}`,
    logStreamName: `local/[$LATEST]${message.requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * This thread's heap and off-heap memory: the isolate's `total_heap_size` and `external_memory`
 * (https://nodejs.org/api/v8.html#v8getheapstatistics), the same figures as `process.memoryUsage()`'s
 * `heapTotal` and `external` in a worker, without the resident-set read that made `memoryUsage()` 8-12% of a
 * small function's busy time in the bench's profiles (twice per invocation, ten times the cost).
 */
function threadMemoryBytes(): number {
  const heap = getHeapStatistics();
  return heap.total_heap_size + heap.external_memory;
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  let maxMemoryUsedBytes = threadMemoryBytes();
  const previous = Object.fromEntries(Object.keys(message.environment).map((name) => [name, process.env[name]]));
  Object.assign(process.env, message.environment);
  try {
    const result = await handler(JSON.parse(message.event), context(message));
    const payload = JSON.stringify(result === undefined ? null : result);
    maxMemoryUsedBytes = Math.max(maxMemoryUsedBytes, threadMemoryBytes());
    send({ type: 'result', requestId: message.requestId, payload, maxMemoryUsedBytes });
  } catch (error) {
    maxMemoryUsedBytes = Math.max(maxMemoryUsedBytes, threadMemoryBytes());
    send({ type: 'error', requestId: message.requestId, ...errorShape(error), maxMemoryUsedBytes });
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function init(): Handler | undefined {
  try {
    if (start.sourceMaps) process.setSourceMapsEnabled(true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(start.handlerPath) as Record<string, unknown>;
    const handler = module[start.exportName];
    if (typeof handler !== 'function') {
      const error = new Error(`${start.handlerPath} exports no function ${start.exportName}`);
      error.name = 'Runtime.HandlerNotFound';
      throw error;
    }
    send({ type: 'ready' });
    return handler as Handler;
  } catch (error) {
    send({ type: 'init-error', ...errorShape(error) });
    return undefined;
  }
}

const handler = init();
if (handler) port.on('message', (message: InvokeMessage) => void invoke(handler, message));
