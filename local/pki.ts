import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeSerial } from '../functions/shared/core/identity';
import { withFinalNewline } from '../functions/shared/core/pem-bundle';

/**
 * Dev PKI for the local stack and the tests: a CA, a server certificate and client certificates,
 * built in-process with @peculiar/x509 on node's WebCrypto (no openssl, works the same everywhere).
 */
x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface Issued {
  certPem: string;
  keyPem: string;
  /** Upper-case hex, no leading zeros: the form `normalizeSerial` gives and revocations are stored in. */
  serialNumber: string;
}

export interface IssueOptions {
  /** RFC 4514 DN, e.g. 'CN=scanner-01, OU=scanner, O=Example Corp'. Escape a literal comma as `\,`. */
  subject: string;
  kind: 'server' | 'client';
  /** Server certificates default to `localhost`. */
  dnsNames?: string[];
  /** Server certificates default to `127.0.0.1`. */
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** 'SHA-1' exists only to test that weak signatures are refused. */
  signatureHash?: 'SHA-256' | 'SHA-1';
  /** A leaf is not a CA unless asked; tests use a non-CA leaf as a would-be issuer. */
  isCa?: boolean;
  /**
   * The subject key: ECDSA P-256 unless asked. Weak keys (RSA below 2048 bits, EC curves below
   * P-256) exist only to test that the client-certificate policy refuses them.
   */
  key?:
    | { type: 'rsa'; bits: number }
    | { type: 'ec'; curve: 'prime256v1' | 'secp384r1' | 'secp224r1' | 'secp192k1' | 'secp256k1' };
  /** Hex serial instead of a random one (tests: the same serial from two CAs). */
  serialNumber?: string;
  /** extendedKeyUsage OIDs instead of serverAuth/clientAuth by kind; [] leaves the extension out. */
  extendedKeyUsages?: readonly string[];
}

export interface CertificateAuthority extends Issued {
  issue(options: IssueOptions): Promise<Issued>;
}

export interface DevPki {
  dir: string;
  ca: Issued;
  server: Issued;
  scanner: Issued;
  dashboard: Issued;
  /** OU=triage: the README's "A triager's day" grants it GET and TRIAGE on org1 (no demo grant). */
  triager: Issued;
  /** A client certificate signed by a different CA (`rogueCa`), which the truststore does not hold. */
  rogue: Issued;
  rogueCa: Issued;
}

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Leaf certificates: within the 398-day limit browsers put on server certificates. */
const LEAF_LIFETIME_MS = 397 * DAY_MS;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
/** Certificates start a little in the past so a peer's slightly slow clock accepts them at once. */
const CLOCK_SKEW_MS = 5 * MINUTE_MS;

export const DEV_SUBJECTS = {
  ca: 'CN=Vulnerability API Dev CA, O=Example Corp',
  server: 'CN=localhost, O=Example Corp',
  scanner: 'CN=scanner-01, OU=scanner, O=Example Corp',
  dashboard: 'CN=dashboard-01, OU=dashboard, O=Example Corp',
  triager: 'CN=triager-01, OU=triage, O=Example Corp',
  rogueCa: 'CN=Rogue CA, O=Rogue Corp',
  rogue: 'CN=rogue-01, OU=scanner, O=Rogue Corp',
} as const;

interface Signer {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
}

/** A random 16-byte serial whose top bit is clear (positive in DER) and whose first byte is not zero. */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Every PEM the project writes ends with a newline, so `cat a.pem b.pem` stays two certificates. */
async function toIssued(certificate: x509.X509Certificate, privateKey: CryptoKey | string): Promise<Issued> {
  return {
    certPem: withFinalNewline(certificate.toString('pem')),
    keyPem: withFinalNewline(typeof privateKey === 'string' ? privateKey : await privateKeyPem(privateKey)),
    serialNumber: normalizeSerial(certificate.serialNumber),
  };
}

function caExtensions(): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
  ];
}

function leafExtensions(options: IssueOptions): x509.Extension[] {
  const names: x509.JsonGeneralNames = [
    ...(options.dnsNames ?? (options.kind === 'server' ? ['localhost'] : [])).map((value) => ({
      type: 'dns' as const,
      value,
    })),
    ...(options.ipAddresses ?? (options.kind === 'server' ? ['127.0.0.1'] : [])).map((value) => ({
      type: 'ip' as const,
      value,
    })),
  ];
  return [
    ...(options.isCa
      ? caExtensions()
      : [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        ]),
    ...extendedKeyUsage(options),
    ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
  ];
}

function extendedKeyUsage(options: IssueOptions): x509.Extension[] {
  const usages = options.extendedKeyUsages ?? [
    options.kind === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
  ];
  return usages.length === 0 ? [] : [new x509.ExtendedKeyUsageExtension([...usages])];
}

/**
 * The subject's key pair: WebCrypto's ECDSA P-256 by default; other keys from node's crypto, whose
 * public half the certificate carries as SubjectPublicKeyInfo (WebCrypto has no RSA signing
 * key of under 2048 bits to refuse, nor curves below P-256).
 */
async function subjectKeys(
  options: IssueOptions,
): Promise<{ publicKey: CryptoKey | ArrayBuffer; privateKey: CryptoKey | string }> {
  if (!options.key) return generateKeyPair();
  const pair =
    options.key.type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: options.key.bits })
      : generateKeyPairSync('ec', { namedCurve: options.key.curve });
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const buffer = spki.buffer.slice(spki.byteOffset, spki.byteOffset + spki.byteLength) as ArrayBuffer;
  return { publicKey: buffer, privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

async function authorityKeyIdentifier(issuer: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const subjectKeyId = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  return subjectKeyId
    ? new x509.AuthorityKeyIdentifierExtension(subjectKeyId.keyId)
    : x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey);
}

async function issueWith(signer: Signer, options: IssueOptions): Promise<Issued> {
  const keys = await subjectKeys(options);
  const notBefore = options.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? randomSerial(),
    subject: options.subject,
    // The issuer's encoded name as is, so chain building matches it byte for byte.
    issuer: signer.certificate.subjectName,
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + LEAF_LIFETIME_MS),
    publicKey: keys.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: options.signatureHash ?? 'SHA-256' },
    extensions: [
      ...leafExtensions(options),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await authorityKeyIdentifier(signer.certificate),
    ],
  });
  return toIssued(certificate, keys.privateKey);
}

function authority(signer: Signer, issued: Issued): CertificateAuthority {
  return { ...issued, issue: (options) => issueWith(signer, options) };
}

export async function createCertificateAuthority(
  subject: string,
  options: { notBefore?: Date; notAfter?: Date } = {},
): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const notBefore = options.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subject,
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + CA_LIFETIME_MS),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [...caExtensions(), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return authority({ certificate, privateKey: keys.privateKey }, await toIssued(certificate, keys.privateKey));
}

function keyMatches(certificate: x509.X509Certificate, keyPem: string): boolean {
  const keySpki = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return keySpki.equals(Buffer.from(certificate.publicKey.rawData));
}

/**
 * A signer from PEM files: an ECDSA certificate and its own key. The certificate is not required to
 * be a CA, so tests can build the chains a verifier must refuse ("signed by a non-CA").
 */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const algorithm = certificate.publicKey.algorithm as webcrypto.EcKeyAlgorithm;
  if (algorithm.name !== 'ECDSA') throw new Error(`only ECDSA CA keys are supported, not ${algorithm.name}`);
  if (!keyMatches(certificate, keyPem)) throw new Error(`the private key does not belong to ${certificate.subject}`);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(keyPem),
    { name: 'ECDSA', namedCurve: algorithm.namedCurve },
    true,
    ['sign'],
  );
  return authority(
    { certificate, privateKey },
    {
      certPem: withFinalNewline(certificate.toString('pem')),
      keyPem: withFinalNewline(keyPem),
      serialNumber: normalizeSerial(certificate.serialNumber),
    },
  );
}

// ---- .local/pki files -------------------------------------------------------------------------

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Written whole or not at all (temp file + rename), keys readable by the owner only. */
async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomSerial().slice(0, 8)}.tmp`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

async function saveIssued(dir: string, name: string, issued: Issued): Promise<void> {
  await writeAtomically(join(dir, `${name}-key.pem`), issued.keyPem, 0o600);
  await writeAtomically(join(dir, `${name}.pem`), issued.certPem, 0o644);
}

/**
 * Reuses a stored certificate while it was issued by `issuer`, stays valid for at least a day and
 * its key file is its key (an interrupted write leaves a new key beside the old certificate).
 */
async function loadIssued(dir: string, name: string, issuer: x509.X509Certificate): Promise<Issued | undefined> {
  const [certPem, keyPem] = await Promise.all([
    readIfExists(join(dir, `${name}.pem`)),
    readIfExists(join(dir, `${name}-key.pem`)),
  ]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const certificate = new x509.X509Certificate(certPem);
    const usable =
      certificate.notAfter.getTime() > Date.now() + DAY_MS &&
      keyMatches(certificate, keyPem) &&
      (await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true }));
    return usable ? { certPem, keyPem, serialNumber: normalizeSerial(certificate.serialNumber) } : undefined;
  } catch {
    return undefined;
  }
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 60_000;

async function tryToLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Several processes (test workers, `npm start` and `npm run demo`) may create the same PKI at once. */
async function withDirectoryLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = join(dir, '.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (!(await tryToLock(lock))) {
    const age = await stat(lock).then(
      (found) => Date.now() - found.mtimeMs,
      () => 0,
    );
    if (age > LOCK_STALE_MS) await rmdir(lock).catch(() => undefined);
    else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    return await work();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

async function ensureAuthority(dir: string, name: string, subject: string): Promise<CertificateAuthority> {
  const [certPem, keyPem] = await Promise.all([
    readIfExists(join(dir, `${name}.pem`)),
    readIfExists(join(dir, `${name}-key.pem`)),
  ]);
  if (certPem !== undefined && keyPem !== undefined) return loadCertificateAuthority(certPem, keyPem);
  const ca = await createCertificateAuthority(subject);
  await saveIssued(dir, name, ca);
  return ca;
}

async function ensureLeaf(dir: string, name: string, ca: CertificateAuthority, options: IssueOptions): Promise<Issued> {
  const existing = await loadIssued(dir, name, new x509.X509Certificate(ca.certPem));
  if (existing) return existing;
  const issued = await ca.issue(options);
  await saveIssued(dir, name, issued);
  return issued;
}

const plain = ({ certPem, keyPem, serialNumber }: Issued): Issued => ({ certPem, keyPem, serialNumber });

/**
 * The dev PKI under `dir` (`.local/pki` for the local stack): created on the first call, reused on
 * later ones. Files: ca, server, scanner, dashboard, rogue-ca and rogue, each `<name>.pem` plus
 * `<name>-key.pem` (mode 0600). The truststore is `ca.pem` alone, so `rogue` is untrusted. A
 * certificate that is missing, expiring within a day or not signed by its stored CA is issued again,
 * so a new CA reissues everything it signs.
 */
export async function ensureDevPki(dir: string): Promise<DevPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withDirectoryLock(dir, async () => {
    const ca = await ensureAuthority(dir, 'ca', DEV_SUBJECTS.ca);
    const rogueCa = await ensureAuthority(dir, 'rogue-ca', DEV_SUBJECTS.rogueCa);
    const server = await ensureLeaf(dir, 'server', ca, { subject: DEV_SUBJECTS.server, kind: 'server' });
    const scanner = await ensureLeaf(dir, 'scanner', ca, { subject: DEV_SUBJECTS.scanner, kind: 'client' });
    const dashboard = await ensureLeaf(dir, 'dashboard', ca, { subject: DEV_SUBJECTS.dashboard, kind: 'client' });
    const triager = await ensureLeaf(dir, 'triager', ca, { subject: DEV_SUBJECTS.triager, kind: 'client' });
    const rogue = await ensureLeaf(dir, 'rogue', rogueCa, { subject: DEV_SUBJECTS.rogue, kind: 'client' });
    return { dir, ca: plain(ca), server, scanner, dashboard, triager, rogue, rogueCa: plain(rogueCa) };
  });
}

/**
 * A client certificate signed with another client certificate's key: a chain through a leaf that
 * is not a CA, which the truststore's CA signed. The PKI module signs with any certificate and key
 * it is given (it checks only that they belong together); the chain (leaf, then the would-be
 * issuer) is what the client sends.
 */
export async function issueFromNonCa(
  issuer: { certPem: string; keyPem: string },
  subject: string,
): Promise<{ certPem: string; keyPem: string }> {
  const leaf = await (await loadCertificateAuthority(issuer.certPem, issuer.keyPem)).issue({ subject, kind: 'client' });
  return { certPem: `${leaf.certPem}${withFinalNewline(issuer.certPem)}`, keyPem: leaf.keyPem };
}
