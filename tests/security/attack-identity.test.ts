/**
 * Attack suite, identity and authorization: certificates built to confuse DN parsing, revoked
 * serials, methods and orgs crossed, another org hidden in a valid batch, another org read through
 * every query-string trick, and page tokens from elsewhere. Every attempt is refused (403 or 400),
 * writes nothing, returns nothing of another org, and a refusal looks the same whether the org or
 * the finding exists or not.
 */
import { revokeCertificate, putGrant } from '../../functions/shared/adapters/authz-admin';
import { parseCertificate } from '../../functions/shared/core/identity';
import { loadCertificateAuthority } from '../../local/pki';
import { REFERENCE_FINDING } from '../../local/seed';
import type { ClientIdentity } from '../../client/mtls';
import { expectBadRequest, storedFindings } from '../support/attack';
import { startTestStack, type TestStack } from '../support/local-stack';

/** Findings of org5, which the dashboard may not read: their marker must never come back. */
const SECRET = 'SECRET-org5-finding';
const ORG1_ONLY_OU = 'scanner-org1';

let stack: TestStack;
let orgOneScanner: ClientIdentity;

beforeAll(async () => {
  stack = await startTestStack();
  await putGrant(stack.dynamoDb, stack.tables.AuthzTable, ORG1_ONLY_OU, { methods: ['POST'], orgs: ['org1'] });
  orgOneScanner = await stack.ca.issue({
    subject: `CN=scanner-07, OU=${ORG1_ONLY_OU}, O=Example Corp`,
    kind: 'client',
  });
  const seeded = await stack.request(stack.pki.scanner, {
    path: '/vuln',
    body: {
      findings: [
        { ...REFERENCE_FINDING, VulnID: 'org1-visible' },
        { ...REFERENCE_FINDING, VulnID: 'org2-visible', Org: 'org2' },
        ...[1, 2, 3].map((n) => ({ ...REFERENCE_FINDING, VulnID: `${SECRET}-${n}`, Org: 'org5', PluginName: SECRET })),
      ],
    },
  });
  expect(seeded.status).toBe(200);
});

afterAll(async () => {
  await stack?.close();
});

/** The authorization step's 403: the same body whatever the reason, with the gateway's request id. */
const FORBIDDEN = { message: 'Forbidden', requestId: expect.any(String) };
let counter = 0;
const nextId = (prefix: string) => `${prefix}-${(counter += 1)}`;

/** A POST that must be refused with 403 and leave the table as it was. */
async function expectPostForbidden(identity: ClientIdentity, findings: { VulnID: string; Org: string }[]) {
  const before = await Promise.all(
    [...new Set(findings.map((finding) => finding.Org))].map(
      async (org) => [org, (await storedFindings(stack, org)).length] as const,
    ),
  );
  const answer = await stack.request(identity, {
    path: '/vuln',
    body: { findings: findings.map((finding) => ({ ...REFERENCE_FINDING, ...finding })) },
  });
  expect(answer.status).toBe(403);
  // The authorization step's 403 carries the request id; a chain the custom domain refuses gets its bare 403.
  expect(answer.json()).toEqual(expect.objectContaining({ message: 'Forbidden' }));
  for (const [org, count] of before) {
    const after = await storedFindings(stack, org);
    expect(after).toHaveLength(count);
    for (const finding of findings) expect(after.map((item) => item.VulnID)).not.toContain(finding.VulnID);
  }
}

describe('subjects built to confuse DN parsing get no grant they do not hold', () => {
  test.each([
    ['an escaped comma hiding "OU=scanner" inside the CN', 'CN=x\\, OU\\=scanner, OU=marketing, O=Example Corp'],
    ['"OU=scanner" as the whole CN and no OU', 'CN=OU\\=scanner, O=Example Corp'],
    ['an escaped "+" hiding OU=scanner inside the CN', 'CN=x\\+OU\\=scanner, OU=marketing, O=Example Corp'],
    ['a multi-valued RDN adding a second OU', 'CN=x+OU=scanner, OU=dashboard, O=Example Corp'],
    ['two OUs, both granted', 'CN=x, OU=scanner, OU=dashboard, O=Example Corp'],
    ['the granted OU twice', 'CN=x, OU=scanner, OU=scanner, O=Example Corp'],
    ['an empty OU', 'CN=x, OU=, O=Example Corp'],
    ['a Cyrillic look-alike of the OU', 'CN=x, OU=\u0455canner, O=Example Corp'],
    ['a full-width look-alike of the OU', 'CN=x, OU=\uff53canner, O=Example Corp'],
    ['a zero-width space inside the OU', 'CN=x, OU=scan\u200bner, O=Example Corp'],
    ['the OU in another case', 'CN=x, OU=SCANNER, O=Example Corp'],
    ['the OU with a trailing space', 'CN=x, OU=scanner\\ , O=Example Corp'],
    ['the OU with a leading space', 'CN=x, OU=\\ scanner, O=Example Corp'],
    ['a semicolon separator inside the OU', 'CN=x, OU=scanner;CN=y, O=Example Corp'],
  ])('%s', async (_name, subject) => {
    const identity = await stack.ca.issue({ subject, kind: 'client' });
    await expectPostForbidden(identity, [{ VulnID: nextId('dn-trick'), Org: 'org1' }]);
    const read = await stack.request(identity, { path: '/vuln?org=org1' });
    expect(read.status).toBe(403);
    expect(read.json()).toEqual(FORBIDDEN);
  });

  test('an OU only in the issuer (an intermediate named OU=scanner) grants nothing to the leaf', async () => {
    const intermediate = await stack.ca.issue({
      subject: 'CN=Scanner Intermediate, OU=scanner, O=Example Corp',
      kind: 'client',
      isCa: true,
    });
    const leaf = await (
      await loadCertificateAuthority(intermediate.certPem, intermediate.keyPem)
    ).issue({ subject: 'CN=x, O=Example Corp', kind: 'client' });
    await expectPostForbidden({ certPem: `${leaf.certPem}\n${intermediate.certPem}`, keyPem: leaf.keyPem }, [
      { VulnID: nextId('issuer-ou'), Org: 'org1' },
    ]);
  });
});

describe('revoked certificates, crossed methods and orgs', () => {
  test('a revoked scanner certificate writes nothing', async () => {
    const scanner = await stack.ca.issue({ subject: 'CN=scanner-revoked, OU=scanner, O=Example Corp', kind: 'client' });
    await revokeCertificate(
      stack.dynamoDb,
      stack.tables.AuthzTable,
      parseCertificate(stack.ca.certPem),
      scanner.serialNumber,
    );
    await expectPostForbidden(scanner, [{ VulnID: nextId('revoked'), Org: 'org1' }]);
  });

  test('an OU granted GET cannot POST, and an OU granted POST cannot GET', async () => {
    await expectPostForbidden(stack.pki.dashboard, [{ VulnID: nextId('dashboard-post'), Org: 'org1' }]);
    const read = await stack.request(stack.pki.scanner, { path: '/vuln?org=org1' });
    expect(read.status).toBe(403);
    expect(read.json()).toEqual(FORBIDDEN);
  });

  test('one finding of an org not granted, inside an otherwise valid batch: nothing of the batch is written', async () => {
    await expectPostForbidden(orgOneScanner, [
      { VulnID: nextId('batch-allowed'), Org: 'org1' },
      { VulnID: nextId('batch-allowed'), Org: 'org1' },
      { VulnID: nextId('batch-denied'), Org: 'org2' },
    ]);
  });

  test('the same org name in another case is another org', async () => {
    await expectPostForbidden(orgOneScanner, [{ VulnID: nextId('case'), Org: 'ORG1' }]);
  });

  test('a duplicated "Org" key cannot pass one org to the check and write another', async () => {
    const vulnId = nextId('duplicate-key');
    const reference = JSON.stringify({ ...REFERENCE_FINDING, VulnID: vulnId });
    for (const body of [
      reference.replace('"Org":"org1"', '"Org":"org1","Org":"org2"'),
      reference.replace('"Org":"org1"', '"Org":"org2","Org":"org1"'),
    ]) {
      const answer = await stack.request(orgOneScanner, {
        path: '/vuln',
        body,
        headers: { 'Content-Type': 'application/json' },
      });
      expect([200, 400, 403]).toContain(answer.status);
    }
    // Whatever each layer made of the duplicate, org2 received nothing from a scanner granted org1 only.
    expect((await storedFindings(stack, 'org2')).map((item) => item.VulnID)).not.toContain(vulnId);
  });
});

describe('reading another org', () => {
  type Page = { org?: string; items?: Record<string, unknown>[] };
  const read = (query: string) => stack.request(stack.pki.dashboard, { path: `/vuln?${query}` });

  test.each([
    'org=org1&org=org5',
    'org=org5&org=org1',
    'org[]=org5',
    'org[]=org5&org=org1',
    'org=org1&org[]=org5',
    'org=ORG5',
    'org=Org5',
    'org=org%35',
    'org=%6F%72%67%35',
    'org=org%255',
    'org=org1%26org%3Dorg5',
    'org=org1,org5',
    'org=org1;org=org5',
    'org=org5%20',
    'org=%20org5',
    'org=org1%20',
    'org=org1%09',
    'org=org1%00',
    'org=org1%0Aorg5',
    'org=org%EF%BC%95',
    'org=%EF%BD%8Frg1',
    'org=*',
    'org=org*',
    'org=',
    'ORG=org5',
    'Org=org5&org=org1',
    'org=org1&severity=HIGH&org=org5',
    'org=org1&nextToken=&org=org5',
  ])('?%s returns nothing of org5', async (query) => {
    const answer = await read(query);
    expect([400, 403]).toContain(answer.status);
    expect(answer.body).not.toContain(SECRET);
    const page = answer.json() as Page;
    expect(page.items).toBeUndefined();
  });

  test('a refusal does not tell an org with findings from an org without any', async () => {
    const withFindings = await read('org=org5');
    const withoutFindings = await read('org=org77');
    expect(withFindings.status).toBe(403);
    expect(withoutFindings.status).toBe(withFindings.status);
    // The same answer but for the request id each answer carries.
    const withoutId = (answer: typeof withFindings) => ({
      ...(answer.json() as Record<string, unknown>),
      requestId: undefined,
    });
    expect(withoutId(withFindings)).toEqual(withoutId(withoutFindings));
  });

  test('a nextToken of another org, an edited one and a made-up one are refused and return nothing', async () => {
    const first = await read('org=org2&limit=1');
    expect(first.status).toBe(200);
    // org2 has one finding visible here; ask for a page of one in org1 too, to hold a real token.
    await stack.request(stack.pki.scanner, { path: '/vuln', body: { ...REFERENCE_FINDING, VulnID: 'org1-second' } });
    const page = (await read('org=org1&limit=1')).json() as { nextToken?: string };
    expect(page.nextToken).toEqual(expect.any(String));
    const token = page.nextToken as string;
    const [payload, tag] = token.split('.') as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ o: 'org5', k: 'a' })).toString('base64url');
    const attempts: [string, string][] = [
      ['org2', token],
      ['org5', token],
      ['org1', `${payload}.${tag.slice(0, -1)}${tag.endsWith('A') ? 'B' : 'A'}`],
      ['org1', `${forgedPayload}.${tag}`],
      ['org1', `${token}.${tag}`],
      ['org1', 'not-a-token'],
    ];
    for (const [org, nextToken] of attempts) {
      const answer = await read(`org=${org}&nextToken=${encodeURIComponent(nextToken)}`);
      expect([400, 403]).toContain(answer.status);
      expect(answer.body).not.toContain(SECRET);
      expect((answer.json() as Page).items).toBeUndefined();
      if (answer.status === 400) expectBadRequest(answer, [nextToken]);
    }
  });

  test('after all of the above, org5 holds only its own findings and org1 reads return only org1', async () => {
    const page = (await read('org=org1&limit=100')).json() as Page;
    expect(page.items?.length).toBeGreaterThan(0);
    expect(new Set(page.items?.map((item) => item.Org))).toEqual(new Set(['org1']));
    expect((await storedFindings(stack, 'org5')).map((item) => item.VulnID).sort()).toEqual(
      [1, 2, 3].map((n) => `${SECRET}-${n}`),
    );
  });
});
