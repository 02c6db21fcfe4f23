/**
 * [9] The client-certificate policy and the decision log, in the shared core both faces run:
 * weak keys and wrong usages the handshake may not even get to, the pin and the revocation reason
 * in the one logged line.
 */
import { authorize, decisionLogEntry, type GrantStore } from '../../functions/shared/core/authz-policy';
import {
  identityFromPem,
  issuerKeyOf,
  parseCertificate,
  type CertificateIdentity,
} from '../../functions/shared/core/identity';
import { clientCertificate, testCa } from '../support/certificates';

const SUBJECT = 'CN=dashboard-01, OU=dashboard, O=Example Corp';
const GRANT = { methods: ['GET'], orgs: ['org1'] };

function store(items: { grant?: unknown; issuers?: unknown; revoked?: Record<string, unknown> }): GrantStore {
  return {
    getGrant: async () => items.grant,
    getIssuers: async () => items.issuers,
    getRevocation: async (issuerKey, serial) => items.revoked?.[`${issuerKey}#${serial}`],
    getLegacyRevocation: async () => undefined,
  };
}

const decide = async (identity: CertificateIdentity, grantStore: GrantStore) => {
  const request = { identity, method: 'GET' as const, orgs: ['org1'], now: new Date() };
  const decision = await authorize(grantStore, request);
  return decisionLogEntry(identity, request, decision, { requestId: 'r-1', sourceIp: '203.0.113.9' });
};

test.each([
  ['an EC key on a curve below P-256', { key: { type: 'ec', curve: 'secp224r1' } }, 'weak-key'],
  ['an EC key on secp256k1 (not P-256)', { key: { type: 'ec', curve: 'secp256k1' } }, 'weak-key'],
  ['an RSA key of 1024 bits', { key: { type: 'rsa', bits: 1024 } }, 'weak-key'],
  ['a CA certificate', { isCa: true }, 'client-certificate-is-ca'],
  ['an extendedKeyUsage without clientAuth', { extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] }, 'no-client-auth-usage'],
] as const)('refuses %s, with the reason in the decision log', async (_label, options, reason) => {
  const certificate = await clientCertificate(SUBJECT, options);
  const entry = await decide(identityFromPem(certificate.certPem), store({ grant: GRANT }));
  expect(entry).toMatchObject({ decision: 'DENY', reason });
});

test.each([
  ['P-256', { key: { type: 'ec', curve: 'prime256v1' } }],
  ['P-384', { key: { type: 'ec', curve: 'secp384r1' } }],
  ['RSA 2048', { key: { type: 'rsa', bits: 2048 } }],
  ['no extendedKeyUsage at all', { extendedKeyUsages: [] }],
] as const)('accepts %s', async (_label, options) => {
  const certificate = await clientCertificate(SUBJECT, options);
  expect(await decide(identityFromPem(certificate.certPem), store({ grant: GRANT }))).toMatchObject({
    decision: 'ALLOW',
  });
});

test('the decision log shows the pin, the issuer key and the revocation reason', async () => {
  const ca = issuerKeyOf(parseCertificate((await testCa()).certPem));
  const certificate = await clientCertificate(SUBJECT);
  const identity = identityFromPem(certificate.certPem);
  const pinned = { ...GRANT, issuer: { ...ca, subject: 'CN=Test CA' } };
  expect(await decide(identity, store({ grant: pinned }))).toMatchObject({ decision: 'ALLOW', pin: ca.spkiSha256 });
  const revoked = await decide(
    identity,
    store({
      grant: pinned,
      issuers: { [ca.spkiSha256]: { publicKey: ca.publicKey } },
      revoked: { [`${ca.spkiSha256}#${identity.serialNumber}`]: { revokedAt: 'x', reason: 'laptop lost' } },
    }),
  );
  expect(revoked).toMatchObject({
    decision: 'DENY',
    reason: 'certificate-revoked',
    revocationReason: 'laptop lost',
    principal: { issuerKey: ca.spkiSha256 },
  });
  const caRevoked = await decide(
    identity,
    store({
      grant: pinned,
      issuers: { [ca.spkiSha256]: { publicKey: ca.publicKey, revokedAt: 'x', reason: 'CA compromised' } },
    }),
  );
  expect(caRevoked).toMatchObject({ decision: 'DENY', reason: 'issuer-revoked', revocationReason: 'CA compromised' });
  expect(JSON.stringify([revoked, caRevoked])).not.toContain('BEGIN CERTIFICATE');
});
