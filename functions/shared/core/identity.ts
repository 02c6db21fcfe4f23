import 'reflect-metadata';
import { X509Certificate, Name } from '@peculiar/x509';
import { ForbiddenError } from './errors';

/** Who a client certificate says it is, read from the parsed X.509 structure (never a DN string). */
export interface CertificateIdentity {
  subjectDN: string;
  issuerDN: string;
  /** Upper-case hex without separators or leading zeros: the form revocations are stored in. */
  serialNumber: string;
  organizationalUnits: string[];
  commonName: string | undefined;
  notBefore: Date;
  notAfter: Date;
}

/** Canonical serial: hex digits only, upper case, no leading zeros ("0" for zero). */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) throw new RangeError('serial must be hexadecimal');
  return hex.replace(/^0+(?=.)/, '');
}

/**
 * Canonical DN text so an issuer pin compares equal however it is spaced or cased, or null when the
 * text is not a DN. Attribute types are case-insensitive (RFC 4514); the parser wants them upper-case.
 */
export function canonicalDN(dn: string): string | null {
  const upperTypes = dn.replace(/(^|,)\s*([A-Za-z][A-Za-z0-9-]*)\s*=/g, (_, separator: string, type: string) => `${separator}${type.toUpperCase()}=`);
  try {
    const canonical = new Name(upperTypes).toString();
    return canonical === '' ? null : canonical;
  } catch {
    return null;
  }
}

export function identityFromPem(pem: string): CertificateIdentity {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    throw new ForbiddenError('certificate-unparsable');
  }
  const subject = certificate.subjectName;
  return {
    subjectDN: subject.toString(),
    issuerDN: certificate.issuerName.toString(),
    serialNumber: normalizeSerial(certificate.serialNumber),
    organizationalUnits: subject.getField('OU'),
    commonName: subject.getField('CN')[0],
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}
