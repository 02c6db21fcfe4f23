import { authorize, decisionLogEntry, type Method } from '../core/authz-policy';
import { ForbiddenError } from '../core/errors';
import { identityFromPem } from '../core/identity';
import { numberEnv, requireEnv } from './config';
import { dynamoDbGrantStore } from './grant-store';
import { logger, tracer } from './powertools';

const grantStore = dynamoDbGrantStore(requireEnv('AUTHZ_TABLE_NAME'), numberEnv('GRANT_CACHE_SECONDS', 30));

export interface AuthorizationInput {
  certPem: string | undefined;
  method: Method;
  orgs: string[];
  requestId: string;
  sourceIp: string | undefined;
}

/**
 * Authorizes one request and logs the decision exactly once. Throws ForbiddenError on deny, so
 * the state machine's Catch and the GET handler's error mapping both answer 403.
 */
export async function authorizeRequest(input: AuthorizationInput): Promise<{ ou: string }> {
  const context = { requestId: input.requestId, sourceIp: input.sourceIp };
  if (!input.certPem) {
    logger.warn('authorization decision', { action: input.method, orgs: input.orgs, decision: 'DENY', reason: 'no-certificate', ...context });
    throw new ForbiddenError('no-certificate');
  }
  let identity;
  try {
    identity = identityFromPem(input.certPem);
  } catch (error) {
    logger.warn('authorization decision', { action: input.method, orgs: input.orgs, decision: 'DENY', reason: 'certificate-unparsable', ...context });
    throw error;
  }
  const request = { identity, method: input.method, orgs: input.orgs, now: new Date() };
  const decision = await authorize(grantStore, request);
  tracer.putAnnotation('principalOu', decision.ou ?? 'none');
  tracer.putAnnotation('decision', decision.allowed ? 'ALLOW' : 'DENY');
  logger.info('authorization decision', decisionLogEntry(identity, request, decision, context));
  if (!decision.allowed || decision.ou === undefined) throw new ForbiddenError(decision.reason);
  return { ou: decision.ou };
}
