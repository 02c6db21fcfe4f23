/**
 * [9] Every PEM the project writes ends with a newline, so `cat ca.pem partner.pem > truststore.pem`
 * stays two certificates; the truststore loader counts what it trusts and refuses what it cannot
 * read; the local page-token key file is the owner's alone.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PemBundleError } from '../../functions/shared/core/pem-bundle';
import { createCertificateAuthority, ensureDevPki, issueFromNonCa } from '../../local/pki';
import { startSecretsManager } from '../../local/secretsmanager/server';
import { loadTruststore, resolveTruststore, truststoreSummary } from '../../local/truststore';
import { writeFile } from 'node:fs/promises';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vuln-api-pem-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('every PEM file of the dev PKI, and every PEM the PKI module returns, ends with a newline', async () => {
  const pki = await ensureDevPki(join(dir, 'pki'));
  const names = (await readdir(pki.dir)).filter((name) => name.endsWith('.pem'));
  expect(names.length).toBeGreaterThanOrEqual(12);
  for (const name of names)
    expect([name, (await readFile(join(pki.dir, name), 'utf8')).endsWith('-----\n')]).toEqual([name, true]);
  const ca = await createCertificateAuthority('CN=Newline CA');
  const leaf = await ca.issue({ subject: 'CN=x, OU=y', kind: 'client' });
  const chained = await issueFromNonCa(leaf, 'CN=z, OU=y');
  for (const pem of [ca.certPem, ca.keyPem, leaf.certPem, leaf.keyPem, chained.certPem])
    expect(pem.endsWith('-----\n')).toBe(true);
});

test('two concatenated CA files stay two trusted certificates, counted at start', async () => {
  const [first, second] = await Promise.all([
    createCertificateAuthority('CN=First CA'),
    createCertificateAuthority('CN=Second CA'),
  ]);
  const path = join(dir, 'bundle.pem');
  await writeFile(path, first.certPem + second.certPem);
  const truststore = resolveTruststore({
    environment: { TRUSTSTORE: path },
    projectRoot: dir,
    devCaPath: join(dir, 'none.pem'),
  });
  expect(truststore.subjects).toEqual(['CN=First CA', 'CN=Second CA']);
  expect(truststoreSummary(truststore)).toBe('2 certificates: CN=First CA; CN=Second CA');
});

test('a glued bundle or an unparsable block refuses to start, saying why', async () => {
  const ca = await createCertificateAuthority('CN=Glue CA');
  const glued = ca.certPem.trimEnd() + ca.certPem;
  expect(() => loadTruststore(glued, 'glued.pem')).toThrow(PemBundleError);
  expect(() => loadTruststore(glued, 'glued.pem')).toThrow(/glued\.pem: .*not on a line of its own/);
  const broken = `${ca.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`;
  expect(() => loadTruststore(broken, 'broken.pem')).toThrow(
    /broken\.pem: certificate 2 of 2 is not a valid X\.509 certificate/,
  );
  expect(() => loadTruststore('nothing here\n', 'empty.pem')).toThrow(/holds no PEM certificate/);
});

test('the local page-token key is a file under the data directory, mode 0600, kept across restarts', async () => {
  const secretsDir = join(dir, 'secrets');
  const first = await startSecretsManager(['PageTokenSecret'], { dir: secretsDir });
  await first.close();
  const path = join(secretsDir, 'PageTokenSecret');
  expect((await stat(path)).mode & 0o777).toBe(0o600);
  const value = (await readFile(path, 'utf8')).trim();
  expect(value).toMatch(/^[A-Za-z0-9]{64}$/);
  const second = await startSecretsManager(['PageTokenSecret'], { dir: secretsDir });
  try {
    const answer = await fetch(second.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ SecretId: second.arns.PageTokenSecret }),
    });
    expect(((await answer.json()) as { SecretString: string }).SecretString).toBe(value);
  } finally {
    await second.close();
  }
});
