/**
 * Attack suite, transport: every client the custom domain's mutual TLS must refuse is refused
 * before any route, throttle, validator or integration runs ("API Gateway ... refuses the request
 * with 403 before it reaches your API", Configuring mutual TLS authentication for a REST API,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html), and
 * handshakes below TLS 1.2, without an AEAD suite or asking to renegotiate fail outright. Each
 * refusal is a well-formed POST of a valid finding: nothing may be written and the state machine
 * must never start.
 */
import { connect, type TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueFromNonCa } from '../../local/pki';
import { REFERENCE_FINDING } from '../../local/seed';
import type { ClientIdentity } from '../../client/mtls';
import { recordExecutionInputs, storedFindings } from '../support/attack';
import { startTestStack, type TestStack } from '../support/local-stack';

const DAY_MS = 86_400_000;
const SCANNER = 'CN=attack-scanner, OU=scanner, O=Example Corp';

let stack: TestStack;
let executions: { inputs: string[] };

beforeAll(async () => {
  stack = await startTestStack();
  executions = recordExecutionInputs(stack);
});

afterAll(async () => {
  await stack?.close();
});

let counter = 0;

/** POSTs a valid finding as `identity` and checks the refusal left no trace behind the gateway. */
async function expectRefusedBeforeAnyHandler(identity: ClientIdentity | undefined, tls?: { ciphers: string }) {
  counter += 1;
  const vulnId = `tls-refused-${counter}`;
  const started = executions.inputs.length;
  const answer = await stack.request(identity, {
    path: '/vuln',
    body: { ...REFERENCE_FINDING, VulnID: vulnId },
    ...(tls ? { tls } : {}),
  });
  expect(answer.status).toBe(403);
  expect(answer.body).toBe('{"message":"Forbidden"}');
  expect(executions.inputs.length).toBe(started);
  expect((await storedFindings(stack, REFERENCE_FINDING.Org)).map((item) => item.VulnID)).not.toContain(vulnId);
  const refusal = stack.logs.find(
    (entry) => entry.message === 'client certificate refused' && entry.requestId === answer.headers['x-amz-apigw-id'],
  );
  expect(refusal).toBeDefined();
  return refusal as Record<string, unknown>;
}

describe('certificates the custom domain refuses, on a POST that would otherwise be stored', () => {
  test('no client certificate', async () => {
    expect(await expectRefusedBeforeAnyHandler(undefined)).toMatchObject({ reason: 'no-client-certificate' });
  });

  test('a self-signed certificate with the scanner OU', async () => {
    const selfSigned = await createCertificateAuthority(SCANNER);
    await expectRefusedBeforeAnyHandler(selfSigned);
  });

  test('a certificate from a foreign CA, with a subject the truststore CA also issues', async () => {
    await expectRefusedBeforeAnyHandler(stack.pki.rogue);
  });

  test('a certificate issued by a leaf (not a CA) that the trusted CA signed', async () => {
    await expectRefusedBeforeAnyHandler(await issueFromNonCa(stack.pki.scanner, SCANNER));
  });

  test('an expired certificate', async () => {
    const expired = await stack.ca.issue({
      subject: SCANNER,
      kind: 'client',
      notBefore: new Date(Date.now() - 30 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    expect(await expectRefusedBeforeAnyHandler(expired)).toMatchObject({ reason: 'cert-has-expired' });
  });

  test('a certificate not valid yet', async () => {
    const early = await stack.ca.issue({
      subject: SCANNER,
      kind: 'client',
      notBefore: new Date(Date.now() + DAY_MS),
      notAfter: new Date(Date.now() + 30 * DAY_MS),
    });
    expect(await expectRefusedBeforeAnyHandler(early)).toMatchObject({ reason: 'cert-not-yet-valid' });
  });

  test('a certificate signed with SHA-1', async () => {
    const weak = await stack.ca.issue({ subject: SCANNER, kind: 'client', signatureHash: 'SHA-1' });
    // The client's own OpenSSL would not send a SHA-1 certificate at its default security level.
    expect(await expectRefusedBeforeAnyHandler(weak, { ciphers: 'DEFAULT@SECLEVEL=0' })).toMatchObject({
      reason: 'weak-signature',
    });
  });

  test('the truststore CA itself, presented as a client certificate', async () => {
    // The CA's key is the most valuable key there is: it must not also open the API. It has no OU, so
    // the authorization step refuses it; the TLS layer lets a CA through as a leaf.
    const answer = await stack.request(stack.pki.ca, {
      path: '/vuln',
      body: { ...REFERENCE_FINDING, VulnID: 'tls-ca-as-client' },
    });
    expect(answer.status).toBe(403);
    expect(answer.json()).toEqual({ message: 'Forbidden', requestId: answer.headers['x-amz-apigw-id'] });
    expect((await storedFindings(stack, REFERENCE_FINDING.Org)).map((item) => item.VulnID)).not.toContain(
      'tls-ca-as-client',
    );
  });

  // The client-certificate policy refuses CA certificates in the authorization step (tests/security/client-certificate-policy.test.ts).
  test('a CA certificate with a granted OU, presented as a client certificate', async () => {
    const caWithOu = await stack.ca.issue({
      subject: 'CN=Scanner Issuing CA, OU=scanner, O=Example Corp',
      kind: 'client',
      isCa: true,
    });
    const answer = await stack.request(caWithOu, {
      path: '/vuln',
      body: { ...REFERENCE_FINDING, VulnID: 'tls-ca-with-ou' },
    });
    expect(answer.status).toBe(403);
    expect((await storedFindings(stack, REFERENCE_FINDING.Org)).map((item) => item.VulnID)).not.toContain(
      'tls-ca-with-ou',
    );
  });
});

describe('handshakes the custom domain refuses', () => {
  const post = (tls: {
    minVersion?: 'TLSv1' | 'TLSv1.2';
    maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';
    ciphers?: string;
  }) =>
    stack.request(stack.pki.scanner, { path: '/vuln', body: { ...REFERENCE_FINDING, VulnID: 'tls-handshake' }, tls });

  test.each([
    ['TLS 1.0', { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }],
    ['TLS 1.1', { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }],
  ] as const)('%s', async (_name, tls) => {
    await expect(post(tls)).rejects.toThrow(
      /protocol version|unsupported protocol|wrong version|no protocols available/i,
    );
  });

  test.each([
    ['CBC with SHA-1 MACs', 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA'],
    ['CBC with SHA-2 MACs', 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384'],
    ['no encryption at all', 'ECDHE-ECDSA-NULL-SHA:NULL@SECLEVEL=0'],
    ['no forward secrecy', 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA'],
  ])('TLS 1.2 offering only %s', async (_name, ciphers) => {
    await expect(post({ maxVersion: 'TLSv1.2', ciphers })).rejects.toThrow(
      /handshake failure|no shared cipher|no ciphers available|no cipher match/i,
    );
  });

  test('nothing from a refused handshake was written', async () => {
    expect((await storedFindings(stack, REFERENCE_FINDING.Org)).map((item) => item.VulnID)).not.toContain(
      'tls-handshake',
    );
  });

  test('a TLS 1.2 client asking to renegotiate (to swap its certificate) loses the connection', async () => {
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port: stack.stack.gateway.port,
      servername: 'localhost',
      ca: stack.pki.ca.certPem,
      cert: stack.pki.dashboard.certPem,
      key: stack.pki.dashboard.keyPem,
      maxVersion: 'TLSv1.2',
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      const outcome = new Promise<string>((resolve) => {
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        socket.once('close', () => resolve('closed'));
        // A bound, not a timing assertion: a server that ignored the request would leave us waiting.
        socket.setTimeout(20_000, () => resolve('still open'));
      });
      socket.renegotiate({ rejectUnauthorized: true }, () => undefined);
      expect(await outcome).toBe('ERR_SSL_NO_RENEGOTIATION');
    } finally {
      socket.destroy();
    }
  });
});
