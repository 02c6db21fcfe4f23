import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { logger, tracer } from './powertools';

/**
 * The one instrumentation style of every handler (STYLE 2): Lambda context in the logger with state
 * cleared per call, the handler captured by the tracer without its (possibly large) response.
 */
export function instrument<TEvent, TResult>(handler: (event: TEvent, context: Context) => Promise<TResult>) {
  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }));
}
