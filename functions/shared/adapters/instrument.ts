import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { logger, tracer } from './powertools';

/** Errors the workflow expects (its Catch states answer them); anything else is logged as unexpected. */
const EXPECTED_ERRORS = new Set([
  'ValidationError',
  'ForbiddenError',
  'TransientError',
  'PayloadTooLargeError',
  'NotFoundError',
  'ConflictError',
]);

/** What a log line may say about an error: its name and a bounded message, never a stack trace. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (!(error instanceof Error)) return { errorName: typeof error, errorMessage: 'non-error thrown' };
  return { errorName: error.name, errorMessage: error.message.slice(0, 300) };
}

/**
 * Logs an unexpected error once, without its stack, and strips the stack from what leaves the
 * handler: Lambda would otherwise print it and put it in the `trace` of the state machine's Cause.
 */
const withoutStackTraces = (): middy.MiddlewareObj => ({
  onError: async (request) => {
    const error = request.error;
    if (!(error instanceof Error)) return;
    if (!EXPECTED_ERRORS.has(error.name)) logger.error('unexpected error', describeError(error));
    error.stack = `${error.name}: ${error.message}`;
  },
});

/**
 * The one instrumentation style of every handler: Lambda context in the logger with state
 * cleared per call, the handler captured by the tracer without its (possibly large) response.
 */
export function instrument<TEvent, TResult>(handler: (event: TEvent, context: Context) => Promise<TResult>) {
  // onError runs in reverse order: the error is logged before the logger's keys are reset.
  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(withoutStackTraces());
}
