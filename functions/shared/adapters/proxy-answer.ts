import { toHttpError } from '../core/errors';
import { jsonResponse, type ProxyResult } from '../core/responses';
import { describeError } from './instrument';
import { logger } from './powertools';

/**
 * The answer of a REST proxy handler that failed: the status and the client-safe message with the request id; the
 * detail goes to the log (5xx), never to the client.
 */
export function errorAnswer(error: unknown, requestId: string): ProxyResult {
  const answer = toHttpError(error, requestId);
  if (answer.statusCode >= 500) logger.error('request failed', describeError(error));
  else if (answer.statusCode === 400) logger.info('request rejected as invalid');
  const response = jsonResponse(answer.statusCode, answer.body);
  return { ...response, headers: { ...response.headers, ...answer.headers } };
}
