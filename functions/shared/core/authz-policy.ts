import { z } from 'zod';
import { canonicalDN, type CertificateIdentity } from './identity';
import { orgSchema } from './finding-schema';

export const METHODS = ['GET', 'POST'] as const;
export type Method = (typeof METHODS)[number];

/** A grant as stored in the authz table: what one OU may do. */
export const grantSchema = z.strictObject({
  methods: z.array(z.enum(METHODS)).min(1),
  orgs: z.union([z.literal('*'), z.array(orgSchema).min(1)]),
  /** Optional issuer pin: the grant applies only to certificates from this issuer DN. */
  issuerDN: z
    .string()
    .min(1)
    .refine((dn) => canonicalDN(dn) !== null, 'must be a distinguished name')
    .optional(),
});
export type Grant = z.infer<typeof grantSchema>;

/** Where grants and revocations come from; the adapter reads DynamoDB through Powertools Parameters. */
export interface GrantStore {
  /** The raw stored grant for an OU, or undefined if none. Parsed and checked by the policy. */
  getGrant(ou: string): Promise<unknown>;
  isRevoked(serialNumber: string): Promise<boolean>;
}

export interface AuthorizationRequest {
  identity: CertificateIdentity;
  method: Method;
  orgs: string[];
  now: Date;
}

export interface Decision {
  allowed: boolean;
  reason: string;
  ou: string | undefined;
  /** Orgs the request was denied for (empty when allowed or when the whole principal is denied). */
  deniedOrgs: string[];
}

const deny = (reason: string, ou?: string, deniedOrgs: string[] = []): Decision => ({ allowed: false, reason, ou, deniedOrgs });

/** Checks that need no stored data: validity window and exactly one OU. */
function checkCertificate(identity: CertificateIdentity, now: Date): Decision | string {
  if (now < identity.notBefore) return deny('certificate-not-yet-valid');
  if (now > identity.notAfter) return deny('certificate-expired');
  const ous = identity.organizationalUnits;
  if (ous.length === 0) return deny('no-ou');
  if (ous.length > 1) return deny('multiple-ous');
  return ous[0] as string;
}

/** Pure decision from a parsed grant. Deny by default; every org of the request must be granted. */
export function decideWithGrant(request: AuthorizationRequest, ou: string, storedGrant: unknown): Decision {
  if (storedGrant === undefined || storedGrant === null) return deny('no-grant', ou);
  const parsed = grantSchema.safeParse(storedGrant);
  if (!parsed.success) return deny('invalid-grant', ou);
  const grant = parsed.data;
  if (grant.issuerDN !== undefined && canonicalDN(grant.issuerDN) !== (canonicalDN(request.identity.issuerDN) ?? 'unparsable issuer')) {
    return deny('issuer-mismatch', ou);
  }
  if (!grant.methods.includes(request.method)) return deny('method-not-granted', ou);
  if (request.orgs.length === 0) return deny('no-org', ou);
  const deniedOrgs = grant.orgs === '*' ? [] : request.orgs.filter((org) => !(grant.orgs as string[]).includes(org));
  if (deniedOrgs.length > 0) return deny('org-not-granted', ou, deniedOrgs);
  return { allowed: true, reason: 'granted', ou, deniedOrgs: [] };
}

/** Full decision: certificate checks, revocation, then the OU's grant. */
export async function authorize(store: GrantStore, request: AuthorizationRequest): Promise<Decision> {
  const checked = checkCertificate(request.identity, request.now);
  if (typeof checked !== 'string') return checked;
  if (await store.isRevoked(request.identity.serialNumber)) return deny('certificate-revoked', checked);
  return decideWithGrant(request, checked, await store.getGrant(checked));
}

export interface DecisionContext {
  requestId: string;
  sourceIp: string | undefined;
}

/** The one structured line logged per decision: no PEM, no body. */
export function decisionLogEntry(identity: CertificateIdentity, request: AuthorizationRequest, decision: Decision, context: DecisionContext) {
  return {
    principal: { subject: identity.subjectDN, serialNumber: identity.serialNumber, issuer: identity.issuerDN, ou: decision.ou },
    action: request.method,
    orgs: request.orgs,
    decision: decision.allowed ? 'ALLOW' : 'DENY',
    reason: decision.reason,
    deniedOrgs: decision.deniedOrgs,
    requestId: context.requestId,
    sourceIp: context.sourceIp,
  };
}
