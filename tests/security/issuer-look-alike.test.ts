/**
 * [9] A look-alike issuer: a second trusted CA ("CA-B") signs an intermediate whose subject is the
 * dev CA's DN, and that look-alike sits in the truststore too. A leaf under it names the dev CA as
 * its issuer; a grant pinned to the dev CA must still deny it, because the pin is the dev CA's key.
 */
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { parseCertificate } from '../../functions/shared/core/identity';
import { createCertificateAuthority, DEV_SUBJECTS, loadCertificateAuthority, type Issued } from '../../local/pki';
import { startTestStack, type TestStack } from '../support/local-stack';

let stack: TestStack;
let leaf: Issued;

beforeAll(async () => {
  const partnerCa = await createCertificateAuthority('CN=Partner CA B, O=Partner Corp');
  const lookAlike = await partnerCa.issue({
    subject: DEV_SUBJECTS.ca,
    kind: 'client',
    isCa: true,
    extendedKeyUsages: [],
  });
  stack = await startTestStack({ trust: [partnerCa.certPem, lookAlike.certPem] });
  await putGrant(
    stack.dynamoDb,
    stack.tables.AuthzTable,
    'dashboard',
    { methods: ['GET'], orgs: ['org1'] },
    parseCertificate(stack.pki.ca.certPem),
  );
  leaf = await (
    await loadCertificateAuthority(lookAlike.certPem, lookAlike.keyPem)
  ).issue({ subject: 'CN=dashboard-07, OU=dashboard, O=Example Corp', kind: 'client' });
});

afterAll(async () => {
  await stack?.close();
});

test("a leaf under a trusted look-alike of the pinned CA is denied by the pin, and the real CA's leaf allowed", async () => {
  expect(parseCertificate(leaf.certPem).issuer).toBe(parseCertificate(stack.pki.ca.certPem).subject);
  const answer = await stack.request(leaf, { path: '/vuln?org=org1' });
  expect(answer.status).toBe(403);
  expect(answer.json()).toEqual({ message: 'Forbidden', requestId: expect.any(String) });
  // The gateway let it through (the look-alike is trusted): the pin is what refused it.
  expect(stack.logs.filter((entry) => entry.message === 'client certificate refused')).toEqual([]);
  expect((await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' })).status).toBe(200);
});
