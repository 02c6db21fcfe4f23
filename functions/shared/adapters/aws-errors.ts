import { TransientError } from '../core/errors';

/** AWS SDK error names that may pass on a later try: the state machine retries these. */
const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

/** Wraps a dependency failure as TransientError when a retry may help; other errors pass through. */
export function classifyAwsError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  // Powertools Parameters wraps the SDK's error (GetParameterError); judge the SDK's own.
  if (error.name === 'GetParameterError' && error.cause instanceof Error) {
    const inner = classifyAwsError(error.cause);
    return inner instanceof TransientError ? inner : error;
  }
  const code = (error as { code?: string }).code;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const retryable = (error as { $retryable?: unknown }).$retryable !== undefined;
  if (
    TRANSIENT.has(error.name) ||
    (code !== undefined && TRANSIENT.has(code)) ||
    retryable ||
    (status !== undefined && status >= 500)
  ) {
    return new TransientError(undefined, { cause: error });
  }
  return error;
}
