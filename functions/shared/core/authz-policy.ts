import * as z from 'zod';
import { CLIENT_AUTH_USAGE, signedBy, spkiSha256, type CertificateIdentity } from './identity';
import { orgSchema } from './finding-schema';

/** GET reads, POST reports (scanners), TRIAGE changes the people-owned fields of findings (docs/finding-lifecycle.md). */
export const METHODS = ['GET', 'POST', 'TRIAGE'] as const;
export type Method = (typeof METHODS)[number];

/** A CA's key: base64 DER SubjectPublicKeyInfo whose SHA-256 is the stated fingerprint. */
const issuerKeySchema = z
  .strictObject({
    spkiSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256'),
    publicKey: z.string().min(1).max(4096),
    subject: z.string().max(1024).optional(),
  })
  .refine(
    (key) => spkiSha256(Buffer.from(key.publicKey, 'base64')) === key.spkiSha256,
    'publicKey does not match spkiSha256',
  );

/** A grant as stored in the authz table: what one OU may do. */
export const grantSchema = z.strictObject({
  methods: z.array(z.enum(METHODS)).min(1),
  orgs: z.union([z.literal('*'), z.array(orgSchema).min(1)]),
  /** Optional issuer pin: the grant applies only to certificates this CA key signed. */
  issuer: issuerKeySchema.optional(),
  /** A pin by DN text, written by earlier versions: a name proves nothing, so such a grant denies. */
  issuerDN: z.string().optional(),
});
export type Grant = z.infer<typeof grantSchema>;

/** One CA the authz table names (see authz-table.ts), keyed by its SPKI SHA-256. */
export const registeredIssuerSchema = z.strictObject({
  publicKey: z.string().min(1).max(4096),
  subject: z.string().max(1024).optional(),
  revokedAt: z.string().optional(),
  reason: z.string().max(256).optional(),
});
export type RegisteredIssuer = z.infer<typeof registeredIssuerSchema>;

const revocationSchema = z.object({ revokedAt: z.string().optional(), reason: z.string().optional() }).passthrough();

/** Where grants and revocations come from; the adapter reads DynamoDB through Powertools Parameters. */
export interface GrantStore {
  /** The raw stored grant for an OU, or undefined if none. Parsed and checked by the policy. */
  getGrant(ou: string): Promise<unknown>;
  /** The raw CA registry: { <spki sha256>: RegisteredIssuer }, or undefined. */
  getIssuers(): Promise<unknown>;
  /** The raw revocation of (issuer key, serial), or undefined. */
  getRevocation(issuerKey: string, serialNumber: string): Promise<unknown>;
  /** A revocation by serial alone from an earlier version (fails closed), or undefined. */
  getLegacyRevocation(serialNumber: string): Promise<unknown>;
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
  /** SPKI SHA-256 of the CA whose key signed the certificate, when the authz table names it. */
  issuerKey?: string;
  /** SPKI SHA-256 of the CA the grant pins, when it pins one. */
  pin?: string;
  /** The operator's reason for a revocation that denied the request. */
  revocationReason?: string;
}

type Extra = Pick<Decision, 'issuerKey' | 'pin' | 'revocationReason'>;
const deny = (reason: string, ou?: string, deniedOrgs: string[] = [], extra: Extra = {}): Decision => ({
  allowed: false,
  reason,
  ou,
  deniedOrgs,
  ...extra,
});

/** EC curves at least as strong as P-256, in OpenSSL's names (node's `namedCurve`). */
const STRONG_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MIN_RSA_BITS = 2048;

/**
 * The client-certificate policy: a client certificate is an end entity with a key API Gateway's
 * mutual TLS supports (RSA-2048 or stronger, ECDSA-256 or stronger) made for client authentication.
 * Returns the reason to refuse, or undefined.
 */
export function clientCertificatePolicy(identity: CertificateIdentity): string | undefined {
  if (identity.isCa) return 'client-certificate-is-ca';
  const { type, bits, curve } = identity.key;
  if (type === 'rsa' || type === 'rsa-pss') {
    if ((bits ?? 0) < MIN_RSA_BITS) return 'weak-key';
  } else if (type === 'ec') {
    if (curve === undefined || !STRONG_CURVES.has(curve)) return 'weak-key';
  } else {
    return 'unsupported-key-type';
  }
  if (identity.extendedKeyUsages !== undefined && !identity.extendedKeyUsages.includes(CLIENT_AUTH_USAGE))
    return 'no-client-auth-usage';
  return undefined;
}

/** Checks that need no stored data: validity window, certificate policy and exactly one OU. */
function checkCertificate(identity: CertificateIdentity, now: Date): Decision | string {
  if (now < identity.notBefore) return deny('certificate-not-yet-valid');
  if (now > identity.notAfter) return deny('certificate-expired');
  const refused = clientCertificatePolicy(identity);
  if (refused) return deny(refused);
  const ous = identity.organizationalUnits;
  if (ous.length === 0) return deny('no-ou');
  if (ous.length > 1) return deny('multiple-ous');
  return ous[0] as string;
}

/** The registered CA whose key signed the certificate, if any. Unparsable registry entries are skipped. */
export async function findIssuer(
  identity: CertificateIdentity,
  storedIssuers: unknown,
): Promise<{ key: string; issuer: RegisteredIssuer } | undefined> {
  if (storedIssuers === null || typeof storedIssuers !== 'object') return undefined;
  for (const [key, stored] of Object.entries(storedIssuers as Record<string, unknown>)) {
    const parsed = registeredIssuerSchema.safeParse(stored);
    if (parsed.success && (await signedBy(identity.certificate, parsed.data.publicKey)))
      return { key, issuer: parsed.data };
  }
  return undefined;
}

/** Pure decision from a parsed grant. Deny by default; every org of the request must be granted. */
export async function decideWithGrant(
  request: AuthorizationRequest,
  ou: string,
  storedGrant: unknown,
  extra: Extra = {},
): Promise<Decision> {
  if (storedGrant === undefined || storedGrant === null) return deny('no-grant', ou, [], extra);
  const parsed = grantSchema.safeParse(storedGrant);
  if (!parsed.success) return deny('invalid-grant', ou, [], extra);
  const grant = parsed.data;
  if (grant.issuerDN !== undefined && grant.issuer === undefined)
    return deny('issuer-pinned-by-name-re-pin-with-issuer-cert', ou, [], extra);
  const withPin: Extra = { ...extra, ...(grant.issuer ? { pin: grant.issuer.spkiSha256 } : {}) };
  if (grant.issuer && !(await signedBy(request.identity.certificate, grant.issuer.publicKey)))
    return deny('issuer-mismatch', ou, [], withPin);
  if (!grant.methods.includes(request.method)) return deny('method-not-granted', ou, [], withPin);
  if (request.orgs.length === 0) return deny('no-org', ou, [], withPin);
  const deniedOrgs = grant.orgs === '*' ? [] : request.orgs.filter((org) => !(grant.orgs as string[]).includes(org));
  if (deniedOrgs.length > 0) return deny('org-not-granted', ou, deniedOrgs, withPin);
  return { allowed: true, reason: 'granted', ou, deniedOrgs: [], ...withPin };
}

const reasonOf = (stored: unknown) => {
  const parsed = revocationSchema.safeParse(stored);
  return parsed.success && parsed.data.reason ? { revocationReason: parsed.data.reason } : {};
};

/** Full decision: certificate checks, revocation (of the issuing CA, then of the certificate), then the OU's grant. */
export async function authorize(store: GrantStore, request: AuthorizationRequest): Promise<Decision> {
  const checked = checkCertificate(request.identity, request.now);
  if (typeof checked !== 'string') return checked;
  const found = await findIssuer(request.identity, await store.getIssuers());
  const extra: Extra = found ? { issuerKey: found.key } : {};
  if (found?.issuer.revokedAt !== undefined) {
    return deny('issuer-revoked', checked, [], {
      ...extra,
      ...(found.issuer.reason ? { revocationReason: found.issuer.reason } : {}),
    });
  }
  const revoked = found ? await store.getRevocation(found.key, request.identity.serialNumber) : undefined;
  if (revoked !== undefined && revoked !== null)
    return deny('certificate-revoked', checked, [], { ...extra, ...reasonOf(revoked) });
  const legacy = await store.getLegacyRevocation(request.identity.serialNumber);
  if (legacy !== undefined && legacy !== null)
    return deny('certificate-revoked-by-serial-only', checked, [], { ...extra, ...reasonOf(legacy) });
  return decideWithGrant(request, checked, await store.getGrant(checked), extra);
}

export interface DecisionContext {
  requestId: string;
  sourceIp: string | undefined;
}

/** The one structured line logged per decision: no PEM, no body. */
export function decisionLogEntry(
  identity: CertificateIdentity,
  request: AuthorizationRequest,
  decision: Decision,
  context: DecisionContext,
) {
  return {
    principal: {
      subject: identity.subjectDN,
      serialNumber: identity.serialNumber,
      issuer: identity.issuerDN,
      ou: decision.ou,
      ...(decision.issuerKey ? { issuerKey: decision.issuerKey } : {}),
    },
    action: request.method,
    orgs: request.orgs,
    decision: decision.allowed ? 'ALLOW' : 'DENY',
    reason: decision.reason,
    ...(decision.pin ? { pin: decision.pin } : {}),
    ...(decision.revocationReason ? { revocationReason: decision.revocationReason } : {}),
    deniedOrgs: decision.deniedOrgs,
    requestId: context.requestId,
    sourceIp: context.sourceIp,
  };
}

/** Denials that are about the grant only: the certificate itself is valid, known and not revoked. */
const GRANT_ONLY_DENIALS: ReadonlySet<string> = new Set(['no-grant', 'method-not-granted', 'org-not-granted']);

/**
 * A scan run's opener may read its run without a GET grant: the presented certificate is the very one that
 * opened it (the same SHA-256 of its DER). API Gateway's mutual TLS has checked its chain to the truststore and
 * the handshake proved its key, so nobody else can present those bytes: not a certificate of another CA with
 * the same serial, not the same subject re-issued (docs/threat-model.md, "Who opened a run"). No CA
 * registration or pin is needed. Only a denial about the grant is lifted; an expired or revoked certificate
 * stays denied, and a run recorded without the fingerprint (by an earlier version) has no opener.
 */
export function openerMayRead(
  decision: Decision,
  identity: Pick<CertificateIdentity, 'certificateSha256'>,
  opener: { certificateSha256?: string | undefined },
): Decision {
  if (decision.allowed || !GRANT_ONLY_DENIALS.has(decision.reason) || decision.ou === undefined) return decision;
  if (opener.certificateSha256 === undefined || identity.certificateSha256 !== opener.certificateSha256)
    return decision;
  return { ...decision, allowed: true, reason: 'run-opener', deniedOrgs: [] };
}
