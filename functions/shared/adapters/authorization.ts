import { authorize, decisionLogEntry, openerMayRead, type Method } from '../core/authz-policy';
import type { RunOpener } from '../core/scan-run';
import { ForbiddenError } from '../core/errors';
import { identityFromPem } from '../core/identity';
import { numberEnv, requireEnv } from './config';
import { dynamoDbGrantStore } from './grant-store';
import { logger, tracer } from './powertools';
import { slaPolicyFrom, type SlaPolicy } from '../core/sla';

/** The authz table through its short cache: grants, the CA registry, revocations and SLA policies. */
export const grantStore = dynamoDbGrantStore(requireEnv('AUTHZ_TABLE_NAME'), numberEnv('GRANT_CACHE_SECONDS', 30));

/** An org's SLA policy (the defaults when it has none), through the grants' cache: a change applies within GrantCacheSeconds. */
export async function slaPolicyOf(org: string): Promise<SlaPolicy> {
  return slaPolicyFrom(await grantStore.getSlaPolicy(org), org);
}

export interface AuthorizationInput {
  certPem: string | undefined;
  method: Method;
  orgs: string[];
  requestId: string;
  sourceIp: string | undefined;
  /** A scan run's opener, who may read the run without the method's grant (GET /scans/{runId}). */
  opener?: RunOpener | undefined;
}

/** Who was allowed: the OU, and what names the certificate (its own SHA-256, its serial, its CA's key when registered). */
export interface Authorized {
  ou: string;
  /** The certificate's subject DN (for a triage's record of who decided). */
  subject: string;
  serialNumber: string;
  certificateSha256: string;
  issuerKey?: string | undefined;
}

/**
 * Authorizes one request and logs the decision exactly once. Throws ForbiddenError on deny, so
 * the state machine's Catch and the GET handler's error mapping both answer 403.
 */
export async function authorizeRequest(input: AuthorizationInput): Promise<Authorized> {
  const context = { requestId: input.requestId, sourceIp: input.sourceIp };
  if (!input.certPem) {
    logger.warn('authorization decision', {
      action: input.method,
      orgs: input.orgs,
      decision: 'DENY',
      reason: 'no-certificate',
      ...context,
    });
    throw new ForbiddenError('no-certificate');
  }
  let identity;
  try {
    identity = identityFromPem(input.certPem);
  } catch (error) {
    logger.warn('authorization decision', {
      action: input.method,
      orgs: input.orgs,
      decision: 'DENY',
      reason: 'certificate-unparsable',
      ...context,
    });
    throw error;
  }
  const request = { identity, method: input.method, orgs: input.orgs, now: new Date() };
  const granted = await authorize(grantStore, request);
  const decision = input.opener === undefined ? granted : openerMayRead(granted, identity, input.opener);
  tracer.putAnnotation('principalOu', decision.ou ?? 'none');
  tracer.putAnnotation('decision', decision.allowed ? 'ALLOW' : 'DENY');
  logger.info('authorization decision', decisionLogEntry(identity, request, decision, context));
  if (!decision.allowed || decision.ou === undefined) throw new ForbiddenError(decision.reason);
  return {
    ou: decision.ou,
    subject: identity.subjectDN,
    serialNumber: identity.serialNumber,
    certificateSha256: identity.certificateSha256,
    ...(decision.issuerKey ? { issuerKey: decision.issuerKey } : {}),
  };
}
