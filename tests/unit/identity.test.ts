import { X509Certificate } from 'node:crypto';
import { ForbiddenError } from '../../functions/shared/core/errors';
import { canonicalDN, identityFromPem, normalizeSerial } from '../../functions/shared/core/identity';
import { clientCertificate, SCANNER_SUBJECT, TEST_CA_SUBJECT } from '../support/certificates';

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
    expect(identityFromPem(bare.certPem)).toMatchObject({ organizationalUnits: [], commonName: undefined, subjectDN: 'O=Example Corp' });
  });

  it.each(['', 'not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'])('refuses %j as a ForbiddenError', (pem) => {
    expect(() => identityFromPem(pem)).toThrow(ForbiddenError);
    expect(() => identityFromPem(pem)).toThrow(expect.objectContaining({ reason: 'certificate-unparsable', message: 'Forbidden' }));
  });
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

describe('canonicalDN', () => {
  it('ignores spacing between RDNs', () => {
    expect(canonicalDN('CN=Test CA,O=Example Corp')).toBe('CN=Test CA, O=Example Corp');
    expect(canonicalDN('CN=Test CA,   O=Example Corp')).toBe(canonicalDN(TEST_CA_SUBJECT));
  });

  it('keeps RDN order significant', () => {
    expect(canonicalDN('O=Example Corp, CN=Test CA')).not.toBe(canonicalDN(TEST_CA_SUBJECT));
  });
});
