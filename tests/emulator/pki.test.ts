import 'reflect-metadata';
import { X509Certificate as PeculiarCertificate } from '@peculiar/x509';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  ensureDevPki,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../../local/pki';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const lines = (dn: string) => dn.split('\n');
const signatureHash = (pem: string) =>
  (new PeculiarCertificate(pem).signatureAlgorithm as { hash: { name: string } }).hash.name;

let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await createCertificateAuthority('CN=Unit CA, O=Example Corp');
});

describe('createCertificateAuthority', () => {
  it('is a self-signed CA with its own key', () => {
    const certificate = new X509Certificate(ca.certPem);
    expect(certificate.ca).toBe(true);
    expect(lines(certificate.subject)).toEqual(['CN=Unit CA', 'O=Example Corp']);
    expect(certificate.issuer).toBe(certificate.subject);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(certificate.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
  });

  it('honours notAfter', async () => {
    const until = new Date('2045-01-01T00:00:00Z');
    const longLived = await createCertificateAuthority('CN=Long CA', { notAfter: until });
    expect(new Date(new X509Certificate(longLived.certPem).validTo)).toEqual(until);
  });
});

describe('issue', () => {
  it('issues a server certificate for localhost and 127.0.0.1 with serverAuth only', async () => {
    const server = await ca.issue({ subject: 'CN=localhost, O=Example Corp', kind: 'server' });
    const certificate = new X509Certificate(server.certPem);
    expect(certificate.ca).toBe(false);
    expect(certificate.keyUsage).toEqual([SERVER_AUTH]);
    expect(certificate.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(certificate.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(certificate.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
  });

  it('uses the SAN entries it is given', async () => {
    const server = await ca.issue({
      subject: 'CN=api',
      kind: 'server',
      dnsNames: ['api.example.com'],
      ipAddresses: ['10.0.0.1'],
    });
    expect(new X509Certificate(server.certPem).subjectAltName).toBe('DNS:api.example.com, IP Address:10.0.0.1');
  });

  it('issues a client certificate with clientAuth, the subject as given and a 16-byte positive serial', async () => {
    const client = await ca.issue({ subject: 'CN=scanner-01, OU=scanner, O=Example Corp', kind: 'client' });
    const certificate = new X509Certificate(client.certPem);
    expect(lines(certificate.subject)).toEqual(['CN=scanner-01', 'OU=scanner', 'O=Example Corp']);
    expect(lines(certificate.issuer)).toEqual(['CN=Unit CA', 'O=Example Corp']);
    expect(certificate.keyUsage).toEqual([CLIENT_AUTH]);
    expect(certificate.subjectAltName).toBeUndefined();
    expect(certificate.ca).toBe(false);
    expect(client.serialNumber).toBe(certificate.serialNumber.toUpperCase());
    expect(client.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
  });

  it('gives every certificate its own serial and key', async () => {
    const [first, second] = await Promise.all([
      ca.issue({ subject: 'CN=a', kind: 'client' }),
      ca.issue({ subject: 'CN=a', kind: 'client' }),
    ]);
    expect(first.serialNumber).not.toBe(second.serialNumber);
    expect(first.keyPem).not.toBe(second.keyPem);
  });

  it('keeps an escaped comma inside the CN instead of making another attribute', async () => {
    const client = await ca.issue({ subject: 'CN=scanner-01\\,OU=admins, OU=scanner, O=Example Corp', kind: 'client' });
    expect(lines(new X509Certificate(client.certPem).subject)).toEqual([
      'CN=scanner-01\\,OU=admins',
      'OU=scanner',
      'O=Example Corp',
    ]);
  });

  it('honours the validity window', async () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const notAfter = new Date('2030-02-01T00:00:00Z');
    const certificate = new X509Certificate(
      (await ca.issue({ subject: 'CN=future', kind: 'client', notBefore, notAfter })).certPem,
    );
    expect(new Date(certificate.validFrom)).toEqual(notBefore);
    expect(new Date(certificate.validTo)).toEqual(notAfter);
  });

  it('signs with SHA-256 by default and with SHA-1 when asked', async () => {
    const strong = await ca.issue({ subject: 'CN=strong', kind: 'client' });
    const weak = await ca.issue({ subject: 'CN=weak', kind: 'client', signatureHash: 'SHA-1' });
    expect(signatureHash(strong.certPem)).toBe('SHA-256');
    expect(signatureHash(weak.certPem)).toBe('SHA-1');
    expect(new X509Certificate(weak.certPem).verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it('makes a CA only when asked', async () => {
    const intermediate = await ca.issue({ subject: 'CN=Intermediate', kind: 'client', isCa: true });
    expect(new X509Certificate(intermediate.certPem).ca).toBe(true);
  });
});

describe('loadCertificateAuthority', () => {
  it('issues from stored PEM files', async () => {
    const loaded = await loadCertificateAuthority(ca.certPem, ca.keyPem);
    expect(loaded.serialNumber).toBe(ca.serialNumber);
    const client = await loaded.issue({ subject: 'CN=reloaded', kind: 'client' });
    expect(new X509Certificate(client.certPem).verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it('lets a non-CA leaf sign, so tests can build a chain a verifier must refuse', async () => {
    const leaf = await ca.issue({ subject: 'CN=leaf, OU=scanner', kind: 'client' });
    const child = await (
      await loadCertificateAuthority(leaf.certPem, leaf.keyPem)
    ).issue({ subject: 'CN=child, OU=scanner', kind: 'client' });
    const childCertificate = new X509Certificate(child.certPem);
    expect(lines(childCertificate.issuer)).toEqual(['CN=leaf', 'OU=scanner']);
    expect(childCertificate.verify(new X509Certificate(leaf.certPem).publicKey)).toBe(true);
    expect(new X509Certificate(leaf.certPem).ca).toBe(false);
  });

  it('refuses a key that is not the certificate key', async () => {
    const other = await createCertificateAuthority('CN=Other');
    await expect(loadCertificateAuthority(ca.certPem, other.keyPem)).rejects.toThrow(
      'the private key does not belong to CN=Unit CA, O=Example Corp',
    );
  });
});

describe('ensureDevPki', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pki-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates the CA, server and client certificates with owner-only keys', async () => {
    const pki = await ensureDevPki(join(dir, 'pki'));
    const caCertificate = new X509Certificate(pki.ca.certPem);
    const issuedByCa = (pem: string) => new X509Certificate(pem).verify(caCertificate.publicKey);
    expect(issuedByCa(pki.server.certPem)).toBe(true);
    expect(issuedByCa(pki.scanner.certPem)).toBe(true);
    expect(issuedByCa(pki.dashboard.certPem)).toBe(true);
    expect(issuedByCa(pki.rogue.certPem)).toBe(false);
    expect(new X509Certificate(pki.rogue.certPem).verify(new X509Certificate(pki.rogueCa.certPem).publicKey)).toBe(
      true,
    );
    expect(lines(new X509Certificate(pki.scanner.certPem).subject)).toEqual([
      'CN=scanner-01',
      'OU=scanner',
      'O=Example Corp',
    ]);
    expect(lines(new X509Certificate(pki.dashboard.certPem).subject)).toEqual([
      'CN=dashboard-01',
      'OU=dashboard',
      'O=Example Corp',
    ]);
    expect(lines(new X509Certificate(pki.rogue.certPem).subject)).toEqual([
      'CN=rogue-01',
      'OU=scanner',
      'O=Rogue Corp',
    ]);
    expect(new X509Certificate(pki.server.certPem).keyUsage).toEqual([SERVER_AUTH]);
    expect(new X509Certificate(pki.scanner.certPem).keyUsage).toEqual([CLIENT_AUTH]);

    for (const name of ['ca', 'server', 'scanner', 'dashboard', 'triager', 'rogue']) {
      expect((await stat(join(dir, 'pki', `${name}-key.pem`))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(dir, 'pki', `${name}.pem`), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    }
    expect(await readFile(join(dir, 'pki', 'rogue-ca.pem'), 'utf8')).toBe(pki.rogueCa.certPem);
  });

  it('reuses the files on later calls and reissues only what is missing', async () => {
    const first = await ensureDevPki(dir);
    const second = await ensureDevPki(dir);
    expect(second).toEqual(first);
    await unlink(join(dir, 'scanner.pem'));
    const third = await ensureDevPki(dir);
    expect(third.ca.serialNumber).toBe(first.ca.serialNumber);
    expect(third.dashboard.serialNumber).toBe(first.dashboard.serialNumber);
    expect(third.scanner.serialNumber).not.toBe(first.scanner.serialNumber);
    expect(new X509Certificate(third.scanner.certPem).verify(new X509Certificate(first.ca.certPem).publicKey)).toBe(
      true,
    );
  });

  it('reissues a certificate whose key file is not its key', async () => {
    const first = await ensureDevPki(dir);
    await writeFile(join(dir, 'dashboard-key.pem'), first.scanner.keyPem);
    const second = await ensureDevPki(dir);
    expect(second.dashboard.serialNumber).not.toBe(first.dashboard.serialNumber);
    expect(
      new X509Certificate(second.dashboard.certPem).checkPrivateKey(createPrivateKey(second.dashboard.keyPem)),
    ).toBe(true);
    expect(second.scanner).toEqual(first.scanner);
  });

  it('gives concurrent callers the same PKI', async () => {
    const [a, b] = await Promise.all([ensureDevPki(dir), ensureDevPki(dir)]);
    expect(b.ca.certPem).toBe(a.ca.certPem);
    expect(b.scanner.certPem).toBe(a.scanner.certPem);
  });
});
