import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { requireEnv } from './config';

/**
 * Built once per execution environment and shared by every handler. The service name is set once,
 * in template.yaml's Globals (POWERTOOLS_SERVICE_NAME); a function without it must not start.
 */
const serviceName = requireEnv('POWERTOOLS_SERVICE_NAME');

export const logger = new Logger({ serviceName });
export const tracer = new Tracer({ serviceName, captureHTTPsRequests: true });
