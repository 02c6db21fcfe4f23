import {
  authorize,
  decideWithGrant,
  decisionLogEntry,
  type AuthorizationRequest,
  type GrantStore,
  type Method,
} from '../../functions/shared/core/authz-policy';
import {
  identityFromPem,
  issuerKeyOf,
  parseCertificate,
  type CertificateIdentity,
} from '../../functions/shared/core/identity';
import { clientCertificate, otherCa, testCa, SCANNER_SUBJECT, TEST_CA_SUBJECT } from '../support/certificates';

const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2026-01-01T00:00:00Z');
const NOW = new Date('2025-06-01T00:00:00Z');
const SCANNER_GRANT = { methods: ['POST'], orgs: ['org1'] };

/** An in-memory grant store that records what it was asked; `revoked` holds "<issuer key>#<serial>". */
function memoryStore(grants: Record<string, unknown>, revoked: string[] = [], issuers?: Record<string, unknown>) {
  const asked: string[] = [];
  const store: GrantStore = {
    getGrant: async (ou) => {
      asked.push(`OU#${ou}`);
      return grants[ou];
    },
    getIssuers: async () => {
      asked.push('ISSUERS');
      return issuers;
    },
    getRevocation: async (issuerKey, serial) => {
      asked.push(`REVOKED#${issuerKey}#${serial}`);
      return revoked.includes(`${issuerKey}#${serial}`)
        ? { revokedAt: '2025-01-01T00:00:00Z', reason: 'laptop lost' }
        : undefined;
    },
    getLegacyRevocation: async (serial) => {
      asked.push(`SERIAL#${serial}`);
      return undefined;
    },
  };
  return { store, asked };
}

const pinOf = async (ca: { certPem: string }) => {
  const certificate = parseCertificate(ca.certPem);
  return { ...issuerKeyOf(certificate), subject: certificate.subject };
};

async function identityFor(
  subject: string,
  options: { ca?: Awaited<ReturnType<typeof otherCa>> } = {},
): Promise<CertificateIdentity> {
  return identityFromPem(
    (await clientCertificate(subject, { notBefore: NOT_BEFORE, notAfter: NOT_AFTER, ...options })).certPem,
  );
}

const request = (
  identity: CertificateIdentity,
  method: Method = 'POST',
  orgs = ['org1'],
  now = NOW,
): AuthorizationRequest => ({ identity, method, orgs, now });

let scanner: CertificateIdentity;
beforeAll(async () => {
  scanner = await identityFor(SCANNER_SUBJECT);
});

describe('authorize', () => {
  it('allows what the OU is granted', async () => {
    const { store, asked } = memoryStore({ scanner: SCANNER_GRANT });
    await expect(authorize(store, request(scanner))).resolves.toEqual({
      allowed: true,
      reason: 'granted',
      ou: 'scanner',
      deniedOrgs: [],
    });
    expect(asked).toEqual(['ISSUERS', `SERIAL#${scanner.serialNumber}`, 'OU#scanner']);
  });

  it('denies an OU without a grant', async () => {
    const { store } = memoryStore({ dashboard: { methods: ['GET'], orgs: '*' } });
    await expect(authorize(store, request(scanner))).resolves.toEqual({
      allowed: false,
      reason: 'no-grant',
      ou: 'scanner',
      deniedOrgs: [],
    });
  });

  it('denies a revoked certificate before reading its grant', async () => {
    const ca = await pinOf(await testCa());
    const { store, asked } = memoryStore({ scanner: SCANNER_GRANT }, [`${ca.spkiSha256}#${scanner.serialNumber}`], {
      [ca.spkiSha256]: { publicKey: ca.publicKey },
    });
    await expect(authorize(store, request(scanner))).resolves.toMatchObject({
      allowed: false,
      reason: 'certificate-revoked',
      ou: 'scanner',
      revocationReason: 'laptop lost',
    });
    expect(asked).toEqual(['ISSUERS', `REVOKED#${ca.spkiSha256}#${scanner.serialNumber}`]);
  });

  it('denies an expired certificate and one not yet valid, without reading the store', async () => {
    const { store, asked } = memoryStore({ scanner: SCANNER_GRANT });
    await expect(
      authorize(store, request(scanner, 'POST', ['org1'], new Date(NOT_AFTER.getTime() + 1000))),
    ).resolves.toMatchObject({
      allowed: false,
      reason: 'certificate-expired',
    });
    await expect(
      authorize(store, request(scanner, 'POST', ['org1'], new Date(NOT_BEFORE.getTime() - 1000))),
    ).resolves.toMatchObject({
      allowed: false,
      reason: 'certificate-not-yet-valid',
    });
    expect(asked).toEqual([]);
  });

  it('accepts a certificate on the first and last second of its validity', async () => {
    const { store } = memoryStore({ scanner: SCANNER_GRANT });
    await expect(authorize(store, request(scanner, 'POST', ['org1'], NOT_BEFORE))).resolves.toMatchObject({
      allowed: true,
    });
    await expect(authorize(store, request(scanner, 'POST', ['org1'], NOT_AFTER))).resolves.toMatchObject({
      allowed: true,
    });
  });

  it('denies a subject with no OU or with several', async () => {
    const { store, asked } = memoryStore({
      scanner: SCANNER_GRANT,
      dashboard: { methods: ['GET', 'POST'], orgs: '*' },
    });
    const noOu = await identityFor('CN=scanner-01, O=Example Corp');
    const twoOus = await identityFor('CN=scanner-01, OU=scanner, OU=dashboard, O=Example Corp');
    await expect(authorize(store, request(noOu))).resolves.toEqual({
      allowed: false,
      reason: 'no-ou',
      ou: undefined,
      deniedOrgs: [],
    });
    await expect(authorize(store, request(twoOus))).resolves.toEqual({
      allowed: false,
      reason: 'multiple-ous',
      ou: undefined,
      deniedOrgs: [],
    });
    expect(asked).toEqual([]);
  });

  it('reads the grant of the real OU when the CN holds ",OU=admins"', async () => {
    const sneaky = await identityFor('CN=scanner-01\\,OU=admins, OU=scanner, O=Example Corp');
    const { store, asked } = memoryStore({ admins: { methods: ['GET', 'POST'], orgs: '*' } });
    await expect(authorize(store, request(sneaky, 'POST', ['org9']))).resolves.toMatchObject({
      allowed: false,
      reason: 'no-grant',
      ou: 'scanner',
    });
    expect(asked).toContain('OU#scanner');
    expect(asked).not.toContain('OU#admins');
  });

  it('allows an issuer-pinned grant for a certificate the pinned key signed', async () => {
    const { store } = memoryStore({ scanner: { ...SCANNER_GRANT, issuer: await pinOf(await testCa()) } });
    await expect(authorize(store, request(scanner))).resolves.toMatchObject({ allowed: true, reason: 'granted' });
  });

  it('denies an issuer-pinned grant for a certificate from another CA', async () => {
    const fromOtherCa = await identityFor(SCANNER_SUBJECT, { ca: await otherCa() });
    const pin = await pinOf(await testCa());
    const { store } = memoryStore({ scanner: { ...SCANNER_GRANT, issuer: pin } });
    await expect(authorize(store, request(fromOtherCa))).resolves.toEqual({
      allowed: false,
      reason: 'issuer-mismatch',
      ou: 'scanner',
      deniedOrgs: [],
      pin: pin.spkiSha256,
    });
  });
});

describe('decideWithGrant', () => {
  it('denies a method the grant does not list', async () => {
    await expect(decideWithGrant(request(scanner, 'GET'), 'scanner', SCANNER_GRANT)).resolves.toEqual({
      allowed: false,
      reason: 'method-not-granted',
      ou: 'scanner',
      deniedOrgs: [],
    });
  });

  it('never lets a POST (or GET) grant triage: TRIAGE must be granted by name', async () => {
    for (const methods of [['POST'], ['GET'], ['GET', 'POST']]) {
      await expect(
        decideWithGrant(request(scanner, 'TRIAGE'), 'scanner', { methods, orgs: '*' }),
      ).resolves.toMatchObject({ allowed: false, reason: 'method-not-granted' });
    }
    await expect(
      decideWithGrant(request(scanner, 'TRIAGE'), 'scanner', { methods: ['GET', 'TRIAGE'], orgs: ['org1'] }),
    ).resolves.toMatchObject({ allowed: true });
  });

  it('denies a whole batch when one of its orgs is not granted, naming that org', async () => {
    await expect(
      decideWithGrant(request(scanner, 'POST', ['org1', 'org2', 'org3']), 'scanner', {
        methods: ['POST'],
        orgs: ['org1', 'org3'],
      }),
    ).resolves.toEqual({
      allowed: false,
      reason: 'org-not-granted',
      ou: 'scanner',
      deniedOrgs: ['org2'],
    });
  });

  it("allows every org with '*'", async () => {
    await expect(
      decideWithGrant(request(scanner, 'GET', ['org1', 'any-other-org']), 'dashboard', { methods: ['GET'], orgs: '*' }),
    ).resolves.toEqual({
      allowed: true,
      reason: 'granted',
      ou: 'dashboard',
      deniedOrgs: [],
    });
  });

  it('denies a request that names no org', async () => {
    await expect(
      decideWithGrant(request(scanner, 'POST', []), 'scanner', { methods: ['POST'], orgs: '*' }),
    ).resolves.toMatchObject({ allowed: false, reason: 'no-org' });
  });

  it('treats a null grant as missing', async () => {
    await expect(decideWithGrant(request(scanner), 'scanner', null)).resolves.toMatchObject({
      allowed: false,
      reason: 'no-grant',
    });
  });

  it.each([
    ['a string', 'POST org1'],
    ['an unknown method', { methods: ['DELETE'], orgs: ['org1'] }],
    ['no methods', { methods: [], orgs: ['org1'] }],
    ['no orgs', { methods: ['POST'], orgs: [] }],
    ['one org as a string', { methods: ['POST'], orgs: 'org1' }],
    ['an unsafe org name', { methods: ['POST'], orgs: ['org 1'] }],
    ['an unknown field', { ...SCANNER_GRANT, admin: true }],
    [
      'a pin whose key does not match its fingerprint',
      { ...SCANNER_GRANT, issuer: { spkiSha256: '0'.repeat(64), publicKey: 'AAAA' } },
    ],
  ])('denies, without throwing, a stored grant that is %s', async (_label, storedGrant) => {
    await expect(decideWithGrant(request(scanner), 'scanner', storedGrant)).resolves.toEqual({
      allowed: false,
      reason: 'invalid-grant',
      ou: 'scanner',
      deniedOrgs: [],
    });
  });

  it('denies a grant pinned by DN text (earlier versions), saying to re-pin', async () => {
    await expect(
      decideWithGrant(request(scanner), 'scanner', { ...SCANNER_GRANT, issuerDN: TEST_CA_SUBJECT }),
    ).resolves.toMatchObject({
      allowed: false,
      reason: 'issuer-pinned-by-name-re-pin-with-issuer-cert',
    });
  });
});

describe('decisionLogEntry', () => {
  it('holds principal, action, orgs, decision, reason, requestId and sourceIp, and no certificate', async () => {
    const certificate = await clientCertificate(SCANNER_SUBJECT, { notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const identity = identityFromPem(certificate.certPem);
    const authorizationRequest = request(identity, 'POST', ['org1', 'org2']);
    const decision = await decideWithGrant(authorizationRequest, 'scanner', SCANNER_GRANT);
    const entry = decisionLogEntry(identity, authorizationRequest, decision, {
      requestId: 'req-1',
      sourceIp: '203.0.113.7',
    });
    expect(entry).toEqual({
      principal: {
        subject: SCANNER_SUBJECT,
        serialNumber: certificate.serialNumber,
        issuer: TEST_CA_SUBJECT,
        ou: 'scanner',
      },
      action: 'POST',
      orgs: ['org1', 'org2'],
      decision: 'DENY',
      reason: 'org-not-granted',
      deniedOrgs: ['org2'],
      requestId: 'req-1',
      sourceIp: '203.0.113.7',
    });
    expect(JSON.stringify(entry)).not.toContain('BEGIN CERTIFICATE');
  });
});
