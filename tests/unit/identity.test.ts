import { X509Certificate } from 'node:crypto';
import { ForbiddenError } from '../../functions/shared/core/errors';
import {
  identityFromPem,
  issuerKeyOf,
  normalizeSerial,
  parseCertificate,
  signedBy,
  spkiSha256,
} from '../../functions/shared/core/identity';
import { clientCertificate, otherCa, testCa, SCANNER_SUBJECT, TEST_CA_SUBJECT } from '../support/certificates';

describe('identityFromPem', () => {
  it('reads subject, issuer, serial, OU, CN and validity from the certificate', async () => {
    const notBefore = new Date('2025-01-01T00:00:00Z');
    const notAfter = new Date('2044-01-01T00:00:00Z');
    const scanner = await clientCertificate(SCANNER_SUBJECT, { notBefore, notAfter });
    expect(identityFromPem(scanner.certPem)).toEqual({
      subjectDN: SCANNER_SUBJECT,
      issuerDN: TEST_CA_SUBJECT,
      serialNumber: scanner.serialNumber,
      organizationalUnits: ['scanner'],
      commonName: 'scanner-01',
      notBefore,
      notAfter,
      isCa: false,
      key: { type: 'ec', curve: 'prime256v1' },
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.2'],
      certificateSha256: new X509Certificate(scanner.certPem).fingerprint256.replace(/:/g, '').toLowerCase(),
      certificate: expect.anything(),
    });
    expect(scanner.serialNumber).toBe(new X509Certificate(scanner.certPem).serialNumber.toUpperCase());
  });

  it('does not find an OU in CN text that looks like one', async () => {
    const sneaky = await clientCertificate('CN=scanner-01\\,OU=admins, OU=scanner, O=Example Corp');
    const identity = identityFromPem(sneaky.certPem);
    expect(identity.organizationalUnits).toEqual(['scanner']);
    expect(identity.commonName).toBe('scanner-01,OU=admins');
  });

  it('does not find an OU in an O value that looks like one', async () => {
    const sneaky = await clientCertificate('CN=scanner-01, O=Example Corp\\, OU=admins');
    expect(identityFromPem(sneaky.certPem).organizationalUnits).toEqual([]);
  });

  it('lists every OU, in order', async () => {
    const twoOus = await clientCertificate('CN=multi, OU=scanner, OU=dashboard, O=Example Corp');
    expect(identityFromPem(twoOus.certPem).organizationalUnits).toEqual(['scanner', 'dashboard']);
  });

  it('finds an OU inside a multi-valued RDN', async () => {
    const multiValued = await clientCertificate('CN=multi+OU=scanner, O=Example Corp');
    expect(identityFromPem(multiValued.certPem).organizationalUnits).toEqual(['scanner']);
  });

  it('gives no OU and no CN when the subject has none', async () => {
    const bare = await clientCertificate('O=Example Corp');
    expect(identityFromPem(bare.certPem)).toMatchObject({
      organizationalUnits: [],
      commonName: undefined,
      subjectDN: 'O=Example Corp',
    });
  });

  it.each(['', 'not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'])(
    'refuses %j as a ForbiddenError',
    (pem) => {
      expect(() => identityFromPem(pem)).toThrow(ForbiddenError);
      expect(() => identityFromPem(pem)).toThrow(
        expect.objectContaining({ reason: 'certificate-unparsable', message: 'Forbidden' }),
      );
    },
  );
});

describe('normalizeSerial', () => {
  it.each([
    ['00:ab:CD', 'ABCD'],
    ['0a 1b', 'A1B'],
    ['000', '0'],
    ['7F', '7F'],
  ])('writes %j as %j', (input, expected) => {
    expect(normalizeSerial(input)).toBe(expected);
  });

  it('refuses non-hex text', () => {
    expect(() => normalizeSerial('12G4')).toThrow(RangeError);
    expect(() => normalizeSerial('')).toThrow(RangeError);
  });
});

describe('issuer keys', () => {
  it('name a CA by the SHA-256 of its SubjectPublicKeyInfo, as openssl computes it', async () => {
    const ca = await testCa();
    const der = new X509Certificate(ca.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(issuerKeyOf(parseCertificate(ca.certPem)).spkiSha256).toBe(spkiSha256(der));
  });

  it('prove who signed a certificate, whatever its issuer name says', async () => {
    const scanner = parseCertificate((await clientCertificate(SCANNER_SUBJECT)).certPem);
    await expect(signedBy(scanner, issuerKeyOf(parseCertificate((await testCa()).certPem)).publicKey)).resolves.toBe(
      true,
    );
    await expect(signedBy(scanner, issuerKeyOf(parseCertificate((await otherCa()).certPem)).publicKey)).resolves.toBe(
      false,
    );
    await expect(signedBy(scanner, 'not a key')).resolves.toBe(false);
  });
});
