/**
 * The mutual-TLS check API Gateway's custom domain makes before any route runs, and the client
 * certificate fields it then exposes as `$context.identity.clientCert`. The TLS server requests a
 * certificate without rejecting the handshake (`rejectUnauthorized: false`) so a refused client gets
 * API Gateway's HTTP 403 instead of a handshake failure; OpenSSL's verdict (`socket.authorized`)
 * covers trust, validity dates and CA constraints, and the signature hash is checked here because
 * OpenSSL's default security level may still accept SHA-1.
 *
 * Chains are built from the truststore only. OpenSSL also uses the intermediates a client sends, so
 * any CA:TRUE certificate a client holds could mint leaves; API Gateway instead requires "the
 * certificate's content must not have been altered from that signed by the certificate authority
 * from the truststore" and "names and subjects of certificates must form an unbroken chain"
 * (Amazon API Gateway Developer Guide, "Configuring mutual TLS authentication for a REST API",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html). So every
 * certificate above the leaf in the verified chain must be one of the truststore's.
 */
import 'reflect-metadata';
import { X509Certificate as ParsedCertificate, type Name } from '@peculiar/x509';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { ClientCertificateContext } from './vtl';

export type CertificateCheck = { ok: true; certificate: ClientCertificateContext } | { ok: false; reason: string };

const WEAK_HASHES = new Set(['MD2', 'MD4', 'MD5', 'SHA-1']);

/** RFC 4514 escaping of one attribute value. */
function escapeDnValue(value: string): string {
  return value
    .replace(/[\\"+,;<>]/g, (char) => `\\${char}`)
    .replace(/^[ #]/, (char) => `\\${char}`)
    .replace(/ $/, '\\ ')
    .replace(/\0/g, '\\00');
}

/**
 * The DN as one comma-separated line (`CN=scanner-01,OU=scanner,O=Example Corp`), RDNs in the order
 * the certificate encodes them, multi-valued RDNs joined with '+'.
 */
export function formatDistinguishedName(name: Name): string {
  return name
    .toJSON()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) => values.map((value) => `${type}=${escapeDnValue(value)}`))
        .join('+'),
    )
    .join(',');
}

/** Colon-separated lower-case hex bytes, the form API Gateway documents (`a1:b2:…`). */
export function formatSerialNumber(hex: string): string {
  const even = hex.length % 2 === 0 ? hex : `0${hex}`;
  return (even.toLowerCase().match(/../g) ?? []).join(':');
}

const isSelfIssued = (certificate: DetailedPeerCertificate) =>
  certificate.issuerCertificate === certificate ||
  certificate.fingerprint256 === certificate.issuerCertificate?.fingerprint256;

/**
 * A signature with a weak hash below the trust anchor. OpenSSL refuses it too (security level), but
 * node reports that only as "unspecified", and the log should say why.
 */
function weakSignatureIn(leaf: DetailedPeerCertificate): boolean {
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = leaf;
  while (current && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    if (isSelfIssued(current)) break;
    const hash = (new ParsedCertificate(current.raw).signatureAlgorithm as { hash?: { name: string } }).hash?.name;
    if (hash === undefined || WEAK_HASHES.has(hash)) return true;
    current = current.issuerCertificate;
  }
  return false;
}

/**
 * `CERT_HAS_EXPIRED` → `cert-has-expired`: OpenSSL's reason in the decision log's style. Node maps
 * verification errors it has no name for (OpenSSL 3's "invalid non-CA" issuer among them) to
 * UNSPECIFIED; the log then says the chain was rejected rather than inventing a cause.
 */
function reasonCode(error: Error | string | null | undefined): string {
  const code = String((error as Error | undefined)?.message ?? error ?? 'UNVERIFIED');
  return code === 'UNSPECIFIED' ? 'certificate-chain-rejected' : code.toLowerCase().replace(/_/g, '-');
}

/** Whether every certificate above the leaf (node reports the chain the client sent, completed from the store) is the truststore's. */
function chainFromTruststore(leaf: DetailedPeerCertificate, truststore: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  let current: DetailedPeerCertificate = leaf;
  while (!isSelfIssued(current) && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    const issuer: DetailedPeerCertificate | undefined = current.issuerCertificate;
    if (!issuer || !truststore.has(issuer.fingerprint256)) return false;
    current = issuer;
  }
  return true;
}

export function checkClientCertificate(socket: TLSSocket, truststore: ReadonlySet<string>): CertificateCheck {
  const peer = socket.getPeerX509Certificate();
  if (!peer) return { ok: false, reason: 'no-client-certificate' };
  try {
    const chain = socket.getPeerCertificate(true);
    if (weakSignatureIn(chain)) return { ok: false, reason: 'weak-signature' };
    if (!socket.authorized) return { ok: false, reason: reasonCode(socket.authorizationError) };
    if (!chainFromTruststore(chain, truststore)) return { ok: false, reason: 'intermediate-not-in-truststore' };
    const parsed = new ParsedCertificate(peer.raw);
    return {
      ok: true,
      certificate: {
        clientCertPem: peer.toString(),
        subjectDN: formatDistinguishedName(parsed.subjectName),
        issuerDN: formatDistinguishedName(parsed.issuerName),
        serialNumber: formatSerialNumber(peer.serialNumber),
        // OpenSSL's ASN1_TIME_print form (`May 28 12:30:02 2019 GMT`), which API Gateway uses too.
        validity: { notBefore: peer.validFrom, notAfter: peer.validTo },
      },
    };
  } catch {
    return { ok: false, reason: 'certificate-unparsable' };
  }
}

const checks = new WeakMap<TLSSocket, CertificateCheck>();

/** One check per connection: a keep-alive connection's certificate cannot change. */
export function clientCertificateOf(socket: TLSSocket, truststore: ReadonlySet<string>): CertificateCheck {
  let check = checks.get(socket);
  if (!check) {
    check = checkClientCertificate(socket, truststore);
    checks.set(socket, check);
  }
  return check;
}
