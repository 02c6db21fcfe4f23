import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { boundedMemo } from './bounded-memo';
import { ForbiddenError } from './errors';

/** Who a client certificate says it is, read from the parsed X.509 structure (never a DN string). */
export interface CertificateIdentity {
  subjectDN: string;
  /** For the decision log only: an issuer is recognised by its key (`issuerKeyOf`), never by this text. */
  issuerDN: string;
  /** Upper-case hex without separators or leading zeros: the form revocations are stored in. */
  serialNumber: string;
  organizationalUnits: string[];
  commonName: string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA=TRUE. */
  isCa: boolean;
  /** The subject key: type and strength, as the client-certificate policy judges them. */
  key: KeyStrength;
  /** extendedKeyUsage OIDs, or undefined when the certificate has no such extension (any use). */
  extendedKeyUsages: string[] | undefined;
  /**
   * SHA-256 of the certificate's DER, lower-case hex: names this one certificate (its issuer, serial, subject,
   * key and signature together). A scan run records its opener by it (docs/threat-model.md, "Who opened a run").
   */
  certificateSha256: string;
  /** The parsed certificate (OpenSSL's, through node:crypto), to verify its signature against an issuer's key. */
  certificate: X509Certificate;
}

export interface KeyStrength {
  /** node's key type: 'rsa', 'rsa-pss', 'ec', 'ed25519', ... */
  type: string;
  /** RSA modulus length in bits. */
  bits?: number;
  /** EC curve as OpenSSL names it: prime256v1, secp384r1, secp521r1, ... */
  curve?: string;
}

/** id-kp-clientAuth (RFC 5280, 4.2.1.12). */
export const CLIENT_AUTH_USAGE = '1.3.6.1.5.5.7.3.2';

/** Canonical serial: hex digits only, upper case, no leading zeros ("0" for zero). */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) throw new RangeError('serial must be hexadecimal');
  return hex.replace(/^0+(?=.)/, '');
}

/** SHA-256 of a DER SubjectPublicKeyInfo, lower-case hex: how the authz table names a CA's key. */
export function spkiSha256(spkiDer: ArrayBuffer | Uint8Array): string {
  return createHash('sha256').update(new Uint8Array(spkiDer)).digest('hex');
}

function keyStrength(key: KeyObject): KeyStrength {
  const details = key.asymmetricKeyDetails ?? {};
  return {
    type: key.asymmetricKeyType ?? 'unknown',
    ...(details.modulusLength === undefined ? {} : { bits: details.modulusLength }),
    ...(details.namedCurve === undefined ? {} : { curve: details.namedCurve }),
  };
}

/**
 * Parsed by OpenSSL (node:crypto): no X.509 library to load in the function's init phase. The
 * JavaScript ASN.1 parser this replaced (@peculiar/x509 with its schemas) cost 365 KB of bundle and
 * about 30 ms of every cold start of Authorize and GetFindings (docs/performance.md).
 */
export function parseCertificate(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

/** The DN as one line, RDNs in the order the certificate encodes them (`CN=scanner-01, OU=scanner, O=Example Corp`), for logs and display. */
export function distinguishedName(multiline: string): string {
  return multiline.split('\n').join(', ');
}

/**
 * The values of one attribute type of a name, read from the name's structure: node's legacy object
 * lists each attribute's values as OpenSSL decoded them, so a CN holding the text "OU=admins" stays a CN.
 */
function attributeValues(name: unknown, type: string): string[] {
  const value = (name as Record<string, string | string[] | undefined> | undefined)?.[type];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function identityFromCertificate(certificate: X509Certificate): CertificateIdentity {
  const { subject } = certificate.toLegacyObject();
  return {
    subjectDN: distinguishedName(certificate.subject),
    issuerDN: distinguishedName(certificate.issuer),
    serialNumber: normalizeSerial(certificate.serialNumber),
    organizationalUnits: attributeValues(subject, 'OU'),
    commonName: attributeValues(subject, 'CN')[0],
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    isCa: certificate.ca,
    key: keyStrength(certificate.publicKey),
    // node's keyUsage is the extendedKeyUsage extension's OIDs, undefined without the extension.
    extendedKeyUsages: certificate.keyUsage === undefined ? undefined : [...certificate.keyUsage],
    certificateSha256: createHash('sha256').update(certificate.raw).digest('hex'),
    certificate,
  };
}

function parseIdentity(pem: string): CertificateIdentity {
  try {
    return Object.freeze(identityFromCertificate(parseCertificate(pem)));
  } catch {
    throw new ForbiddenError('certificate-unparsable');
  }
}

/**
 * Client certificates an execution environment has parsed, by their exact PEM text. A warm
 * environment sees the same few clients again and again, and parsing (ASN.1 in JavaScript, then the
 * key) cost more than the rest of an authorization; the result depends on the bytes alone (validity
 * is judged against the request's time, revocation and grants are read per request).
 */
const MAX_REMEMBERED_CERTIFICATES = 256;

export const identityFromPem: (pem: string) => CertificateIdentity = boundedMemo(
  parseIdentity,
  MAX_REMEMBERED_CERTIFICATES,
);

/** A CA's public key as the authz table keeps it: DER SubjectPublicKeyInfo, base64. */
export interface IssuerKey {
  spkiSha256: string;
  publicKey: string;
}

export function issuerKeyOf(certificate: X509Certificate): IssuerKey {
  const der = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return { spkiSha256: spkiSha256(der), publicKey: der.toString('base64') };
}

/**
 * Verdicts per parsed certificate and issuer key: a signature over fixed bytes verifies the same
 * every time. Kept as long as the certificate object is (see identityFromPem's memo); the keys are
 * the registry's and the grants' issuer keys, a few per certificate.
 */
const verified = new WeakMap<X509Certificate, Map<string, boolean>>();

function verifySignature(certificate: X509Certificate, issuerPublicKey: string): boolean {
  try {
    return certificate.verify(
      createPublicKey({ key: Buffer.from(issuerPublicKey, 'base64'), format: 'der', type: 'spki' }),
    );
  } catch {
    return false;
  }
}

/**
 * Whether `issuerPublicKey` (base64 DER SPKI) made the certificate's signature: the one proof of
 * who issued a certificate that does not trust a name. A key that cannot be used is a "no".
 */
export async function signedBy(certificate: X509Certificate, issuerPublicKey: string): Promise<boolean> {
  let verdicts = verified.get(certificate);
  if (!verdicts) {
    verdicts = new Map();
    verified.set(certificate, verdicts);
  }
  let verdict = verdicts.get(issuerPublicKey);
  if (verdict === undefined) {
    verdict = verifySignature(certificate, issuerPublicKey);
    verdicts.set(issuerPublicKey, verdict);
  }
  return verdict;
}
