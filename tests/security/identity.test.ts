/**
 * [9] Identity attacks against the running local stack, with certificates from CAs in and out of
 * the truststore: pins by name, client-sent intermediates, revocation across CAs and of a CA, the
 * client-certificate policy. The truststore holds the dev CA and a partner CA ("CA-B"). One stack
 * per file: the in-process functions of two stacks would share one SDK endpoint.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAuthz } from '../../client/authz-command';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { parseCertificate } from '../../functions/shared/core/identity';
import {
  createCertificateAuthority,
  DEV_SUBJECTS,
  loadCertificateAuthority,
  type CertificateAuthority,
  type Issued,
} from '../../local/pki';
import { portOf, startTestStack, type TestStack } from '../support/local-stack';

const DASHBOARD = 'CN=dashboard-07, OU=dashboard, O=Example Corp';
let stack: TestStack;
let partnerCa: CertificateAuthority;
let outsideCa: CertificateAuthority;
let files: string;

beforeAll(async () => {
  partnerCa = await createCertificateAuthority('CN=Partner CA B, O=Partner Corp');
  outsideCa = await createCertificateAuthority('CN=Outside CA, O=Nobody');
  stack = await startTestStack({ trust: [partnerCa.certPem] });
  process.env.DYNAMODB_PORT = String(portOf(stack.stack.backend.dynamoDbEndpoint));
  files = await mkdtemp(join(tmpdir(), 'vuln-api-security-'));
});

afterAll(async () => {
  delete process.env.DYNAMODB_PORT;
  await stack?.close();
  if (files) await rm(files, { recursive: true, force: true });
});

async function authz(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAuthz(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function file(name: string, pem: string): Promise<string> {
  const path = join(files, name);
  await writeFile(path, pem);
  return path;
}

const read = (identity: Issued | { certPem: string; keyPem: string }) =>
  stack.request(identity, { path: '/vuln?org=org1' });
const refusals = () =>
  stack.logs.filter((entry) => entry.message === 'client certificate refused').map((entry) => entry.reason);

describe('issuer pins are keys, not names', () => {
  beforeAll(async () => {
    await putGrant(
      stack.dynamoDb,
      stack.tables.AuthzTable,
      'dashboard',
      { methods: ['GET'], orgs: ['org1'] },
      parseCertificate(stack.pki.ca.certPem),
    );
  });

  it('allows a certificate the pinned CA signed', async () => {
    expect((await read(stack.pki.dashboard)).status).toBe(200);
  });

  it('refuses to pin by DN text', async () => {
    const result = await authz(
      'grant',
      '--ou',
      'dashboard',
      '--methods',
      'GET',
      '--orgs',
      'org1',
      '--issuer',
      DEV_SUBJECTS.ca,
    );
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/--issuer-cert/);
  });

  it('denies, with a reason to re-pin, a grant still pinned by DN text', async () => {
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    const { marshall } = await import('@aws-sdk/util-dynamodb');
    await stack.dynamoDb.send(
      new PutItemCommand({
        TableName: stack.tables.AuthzTable,
        Item: marshall({ Id: 'OU#legacy', Value: { methods: ['GET'], orgs: ['org1'], issuerDN: DEV_SUBJECTS.ca } }),
      }),
    );
    const legacy = await stack.ca.issue({ subject: 'CN=legacy-01, OU=legacy, O=Example Corp', kind: 'client' });
    expect((await read(legacy)).status).toBe(403);
    expect((await authz('list')).out).toMatch(/legacy: .*re-pin with --issuer-cert/);
  });
});

describe('chains are built from the truststore only', () => {
  let intermediate: Issued;
  let leafUnderIntermediate: Issued;

  beforeAll(async () => {
    // A CA:TRUE certificate the client holds, signed by a trusted CA but not itself in the truststore.
    intermediate = await stack.ca.issue({
      subject: 'CN=Client-held Intermediate, O=Example Corp',
      kind: 'client',
      isCa: true,
      extendedKeyUsages: [],
    });
    leafUnderIntermediate = await (
      await loadCertificateAuthority(intermediate.certPem, intermediate.keyPem)
    ).issue({ subject: DASHBOARD, kind: 'client' });
  });

  it('refuses a leaf whose intermediate the client sends itself', async () => {
    const answer = await read({
      certPem: `${leafUnderIntermediate.certPem}${intermediate.certPem}`,
      keyPem: leafUnderIntermediate.keyPem,
    });
    expect(answer.status).toBe(403);
    expect(refusals()).toContain('intermediate-not-in-truststore');
  });

  it('refuses the same leaf alone', async () => {
    expect((await read(leafUnderIntermediate)).status).toBe(403);
  });

  it('refuses a leaf from a CA outside the truststore, with or without that CA in the chain', async () => {
    const outsider = await outsideCa.issue({ subject: DASHBOARD, kind: 'client' });
    expect((await read(outsider)).status).toBe(403);
    expect((await read({ certPem: `${outsider.certPem}${outsideCa.certPem}`, keyPem: outsider.keyPem })).status).toBe(
      403,
    );
  });
});

describe('revocation follows the issuer key', () => {
  const SHARED_SERIAL = '5ac3fbfb3a242d64f89f2e37c8d2b6fd';
  let fromDevCa: Issued;
  let fromPartner: Issued;

  beforeAll(async () => {
    await putGrant(stack.dynamoDb, stack.tables.AuthzTable, 'dashboard', { methods: ['GET'], orgs: ['org1'] });
    fromDevCa = await stack.ca.issue({ subject: DASHBOARD, kind: 'client', serialNumber: SHARED_SERIAL });
    fromPartner = await partnerCa.issue({ subject: DASHBOARD, kind: 'client', serialNumber: SHARED_SERIAL });
  });

  it('revokes serial N of one CA only, and the undo restores it', async () => {
    expect([(await read(fromDevCa)).status, (await read(fromPartner)).status]).toEqual([200, 200]);
    const revoked = await authz(
      'revoke-cert',
      '--cert',
      await file('dev-leaf.pem', fromDevCa.certPem),
      '--issuer-cert',
      await file('dev-ca.pem', stack.pki.ca.certPem),
      '--reason',
      'laptop lost',
    );
    expect(revoked).toMatchObject({ code: 0, out: expect.stringMatching(/takes effect within/) });
    expect([(await read(fromDevCa)).status, (await read(fromPartner)).status]).toEqual([403, 200]);
    expect(
      await authz(
        'unrevoke-cert',
        '--cert',
        await file('dev-leaf.pem', fromDevCa.certPem),
        '--issuer-cert',
        await file('dev-ca.pem', stack.pki.ca.certPem),
      ),
    ).toMatchObject({ code: 0 });
    expect((await read(fromDevCa)).status).toBe(200);
  });

  it('derives the issuer from a chain file, and refuses a serial without its issuer', async () => {
    const chain = await file('partner-chain.pem', `${fromPartner.certPem}${partnerCa.certPem}`);
    expect(await authz('revoke-cert', '--cert', chain)).toMatchObject({ code: 0 });
    expect([(await read(fromDevCa)).status, (await read(fromPartner)).status]).toEqual([200, 403]);
    expect(await authz('unrevoke-cert', '--cert', chain)).toMatchObject({ code: 0 });
    expect((await authz('revoke-cert', '--serial', SHARED_SERIAL)).code).toBe(2);
  });

  it('revoking a CA denies everything it signed, until undone', async () => {
    const ca = await file('partner-ca.pem', partnerCa.certPem);
    expect(await authz('revoke-cert', '--cert', ca, '--reason', 'partner offboarded')).toMatchObject({
      code: 0,
      out: expect.stringContaining('every certificate it signed'),
    });
    const another = await partnerCa.issue({ subject: 'CN=dashboard-08, OU=dashboard, O=Partner Corp', kind: 'client' });
    expect([(await read(fromPartner)).status, (await read(another)).status, (await read(fromDevCa)).status]).toEqual([
      403, 403, 200,
    ]);
    expect((await authz('list')).out).toMatch(/Partner CA B.*REVOKED .*partner offboarded/);
    expect(await authz('unrevoke-cert', '--cert', ca)).toMatchObject({ code: 0 });
    expect((await read(another)).status).toBe(200);
  });
});

describe('the client-certificate policy', () => {
  beforeAll(async () => {
    await putGrant(stack.dynamoDb, stack.tables.AuthzTable, 'dashboard', { methods: ['GET'], orgs: ['org1'] });
  });

  it('refuses a client certificate that is a CA', async () => {
    const caLeaf = await stack.ca.issue({
      subject: DASHBOARD,
      kind: 'client',
      isCa: true,
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.2'],
    });
    expect((await read(caLeaf)).status).toBe(403);
  });

  it('refuses an RSA key under 2048 bits', async () => {
    const weak = await stack.ca.issue({ subject: DASHBOARD, kind: 'client', key: { type: 'rsa', bits: 1024 } });
    const strong = await stack.ca.issue({ subject: DASHBOARD, kind: 'client', key: { type: 'rsa', bits: 2048 } });
    expect([(await read(weak)).status, (await read(strong)).status]).toEqual([403, 200]);
  });
});
