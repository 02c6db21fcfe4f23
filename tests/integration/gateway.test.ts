/**
 * The local gateway over real TLS: mutual-TLS refusals happen before any route, then the OpenAPI
 * document's routes, validators, mapping templates and gateway responses behave as API Gateway's.
 */
import { MAX_BODY_BYTES } from '../../functions/shared/core/limits';
import { revokeCertificate } from '../../functions/shared/adapters/authz-admin';
import { parseCertificate } from '../../functions/shared/core/identity';
import { createCertificateAuthority } from '../../local/pki';
import { REFERENCE_FINDING } from '../../local/seed';
import { issueFromNonCa } from '../../local/pki';
import { startTestStack, type TestStack } from '../support/local-stack';

const DAY_MS = 86_400_000;
const FORBIDDEN = '{"message":"Forbidden"}';
const DASHBOARD = 'CN=dashboard-02, OU=dashboard, O=Example Corp';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
});

const lastRefusal = () => [...stack.logs].reverse().find((entry) => entry.message === 'client certificate refused');
type Page = { org: string; items: Record<string, unknown>[]; count: number };

describe('mutual TLS, before any route', () => {
  it.each([
    ['no client certificate', async () => undefined, 'no-client-certificate'],
    [
      'a certificate from a CA the truststore does not hold',
      async () => stack.pki.rogue,
      'unable-to-verify-leaf-signature',
    ],
    ['a self-signed certificate', async () => createCertificateAuthority(DASHBOARD), 'depth-zero-self-signed-cert'],
    [
      'an expired certificate',
      async () =>
        stack.ca.issue({
          subject: DASHBOARD,
          kind: 'client',
          notBefore: new Date(Date.now() - 10 * DAY_MS),
          notAfter: new Date(Date.now() - DAY_MS),
        }),
      'cert-has-expired',
    ],
    [
      'a certificate not yet valid',
      async () =>
        stack.ca.issue({
          subject: DASHBOARD,
          kind: 'client',
          notBefore: new Date(Date.now() + DAY_MS),
          notAfter: new Date(Date.now() + 10 * DAY_MS),
        }),
      'cert-not-yet-valid',
    ],
    [
      'a certificate signed by a client certificate (not a CA)',
      async () => issueFromNonCa(stack.pki.dashboard, DASHBOARD),
      'certificate-chain-rejected',
    ],
  ])('%s gets 403 Forbidden, with the reason logged', async (_name, identity, reason) => {
    const answer = await stack.request(await identity(), { path: '/vuln?org=org1' });
    expect(answer.status).toBe(403);
    expect(answer.body).toBe(FORBIDDEN);
    expect(lastRefusal()).toMatchObject({ reason, requestId: answer.headers['x-amz-apigw-id'] });
  });

  it('a certificate signed with SHA-1 gets 403 (weak signature)', async () => {
    const weak = await stack.ca.issue({ subject: DASHBOARD, kind: 'client', signatureHash: 'SHA-1' });
    // The client's own OpenSSL would refuse to send a SHA-1 certificate at its default security level.
    const answer = await stack.request(weak, { path: '/vuln?org=org1', tls: { ciphers: 'DEFAULT@SECLEVEL=0' } });
    expect(answer.status).toBe(403);
    expect(lastRefusal()).toMatchObject({ reason: 'weak-signature' });
  });

  it('refuses a refused client on every route, even unknown ones', async () => {
    const answer = await stack.request(stack.pki.rogue, { path: '/nowhere' });
    expect(answer.status).toBe(403);
    expect(answer.body).toBe(FORBIDDEN);
  });

  it('refuses TLS 1.1 at the handshake', async () => {
    await expect(
      stack.request(stack.pki.dashboard, {
        path: '/vuln?org=org1',
        tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
      }),
    ).rejects.toThrow(/protocol version|unsupported protocol|wrong version/i);
  });

  it('refuses a TLS 1.2 cipher without AEAD at the handshake', async () => {
    await expect(
      stack.request(stack.pki.dashboard, {
        path: '/vuln?org=org1',
        tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' },
      }),
    ).rejects.toThrow(/handshake failure|no shared cipher/i);
  });

  it('accepts TLS 1.2 with an AEAD cipher', async () => {
    const answer = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1', tls: { maxVersion: 'TLSv1.2' } });
    expect(answer.status).toBe(200);
  });

  it('never logs a certificate PEM', () => {
    expect(JSON.stringify(stack.logs)).not.toContain('BEGIN CERTIFICATE');
  });
});

describe('the reference scenarios', () => {
  it('the scanner posts the reference finding and the dashboard reads it back', async () => {
    const posted = await stack.request(stack.pki.scanner, { path: '/vuln', body: REFERENCE_FINDING });
    expect(posted.status).toBe(200);
    expect(posted.headers['content-type']).toBe('application/json');
    const requestId = posted.headers['x-amz-apigw-id'];
    expect(posted.json()).toEqual({
      message: 'Post vulnerability succeeded',
      accepted: 1,
      created: expect.any(Number),
      updated: expect.any(Number),
      unchanged: expect.any(Number),
      stale: 0,
      reopened: 0,
      runId: null,
      requestId,
    });

    const read = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' });
    expect(read.status).toBe(200);
    const page = read.json() as Page;
    expect(page.items).toContainEqual(expect.objectContaining({ ...REFERENCE_FINDING, DueDate: '2022-09-09' }));
  });

  it('the dashboard may not post, nor read org5', async () => {
    const posted = await stack.request(stack.pki.dashboard, { path: '/vuln', body: REFERENCE_FINDING });
    expect(posted.status).toBe(403);
    expect(posted.json()).toEqual({ message: 'Forbidden', requestId: posted.headers['x-amz-apigw-id'] });
    const read = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org5' });
    expect(read.status).toBe(403);
    expect(read.json()).toEqual({ message: 'Forbidden', requestId: read.headers['x-amz-apigw-id'] });
  });

  it('a revoked certificate is refused at once', async () => {
    const dashboard = await stack.ca.issue({ subject: DASHBOARD, kind: 'client' });
    expect((await stack.request(dashboard, { path: '/vuln?org=org1' })).status).toBe(200);
    await revokeCertificate(
      stack.dynamoDb,
      stack.tables.AuthzTable,
      parseCertificate(stack.ca.certPem),
      dashboard.serialNumber,
    );
    const answer = await stack.request(dashboard, { path: '/vuln?org=org1' });
    expect(answer.status).toBe(403);
    expect(answer.json()).toEqual({ message: 'Forbidden', requestId: answer.headers['x-amz-apigw-id'] });
  });
});

describe('the mapping template', () => {
  it('round-trips quotes, backslashes, slashes and non-ASCII text exactly', async () => {
    const finding = {
      ...REFERENCE_FINDING,
      VulnID: 'escaping-1',
      PluginName: `O'Brien's "café" naïve \\ </script> 日本語 😀 ≠ ${'\u2028'}`,
    };
    const posted = await stack.request(stack.pki.scanner, { path: '/vuln', body: finding });
    expect(posted.status).toBe(200);
    const page = (await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' })).json() as Page;
    expect(page.items.find((item) => item.VulnID === 'escaping-1')?.PluginName).toBe(finding.PluginName);
  });

  it('stores every finding when several scanners post at once', async () => {
    const scanners = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        stack.ca.issue({ subject: `CN=scanner-1${index}, OU=scanner, O=Example Corp`, kind: 'client' }),
      ),
    );
    const answers = await Promise.all(
      scanners.map((scanner, index) =>
        stack.request(scanner, {
          path: '/vuln',
          body: {
            findings: [0, 1].map((n) => ({ ...REFERENCE_FINDING, Org: 'org2', VulnID: `concurrent-${index}-${n}` })),
          },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(scanners.map(() => 200));
    const page = (await stack.request(stack.pki.dashboard, { path: '/vuln?org=org2&limit=100' })).json() as Page;
    const stored = page.items.map((item) => item.VulnID).filter((id) => String(id).startsWith('concurrent-'));
    expect(stored).toHaveLength(12);
  });

  it('a finding the state machine refuses is its 400, with the issues', async () => {
    const answer = await stack.request(stack.pki.scanner, {
      path: '/vuln',
      body: { ...REFERENCE_FINDING, DueDate: '02-30-2024' },
    });
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({
      message: 'Invalid request',
      errors: [expect.objectContaining({ path: 'DueDate' })],
    });
  });
});

describe('gateway responses from the OpenAPI document', () => {
  it('an unknown path is MISSING_AUTHENTICATION_TOKEN, which the document makes 404 Not found', async () => {
    const answer = await stack.request(stack.pki.scanner, { path: '/nowhere' });
    expect(answer.status).toBe(404);
    expect(answer.json()).toEqual({ message: 'Not found', requestId: answer.headers['x-amz-apigw-id'] });
    expect(answer.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
  });

  it('a known path with a method it does not have is the same 404 (API Gateway answers both alike)', async () => {
    for (const method of ['DELETE', 'PUT', 'PATCH']) {
      const answer = await stack.request(stack.pki.scanner, { method, path: '/vuln' });
      expect([method, answer.status, answer.json()]).toEqual([
        method,
        404,
        { message: 'Not found', requestId: answer.headers['x-amz-apigw-id'] },
      ]);
    }
  });

  it('a POST that is not JSON is 415', async () => {
    const answer = await stack.request(stack.pki.scanner, {
      path: '/vuln',
      body: 'VulnID=1',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).toBe(415);
    expect(answer.json()).toEqual({ message: 'Unsupported media type', requestId: answer.headers['x-amz-apigw-id'] });
  });

  it('JSON with a charset parameter is still JSON', async () => {
    const answer = await stack.request(stack.pki.scanner, {
      path: '/vuln',
      body: JSON.stringify(REFERENCE_FINDING),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(answer.status).toBe(200);
  });

  it('a body over the limit is 413, declared or not', async () => {
    const oversized = JSON.stringify({ findings: [{ ...REFERENCE_FINDING, PluginName: 'x'.repeat(MAX_BODY_BYTES) }] });
    const declared = await stack.request(stack.pki.scanner, {
      path: '/vuln',
      body: oversized,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(declared.status).toBe(413);
    expect(declared.json()).toMatchObject({ message: 'Request body too large' });
    const chunked = await stack.request(stack.pki.scanner, {
      path: '/vuln',
      body: oversized,
      headers: { 'Content-Type': 'application/json' },
      chunked: true,
    });
    expect(chunked.status).toBe(413);
  });

  it('a body under the limit whose execution input (body + certificate) is over 256 KiB is 413, not a 500', async () => {
    // Only a deployment whose WAF counts oversize bodies (WafOversizeBodyAction=Count) lets such a body reach the workflow.
    const countStack = await startTestStack({ wafOversizeBodyAction: 'Count' });
    // Three-byte characters let a valid batch of 100 come within a few hundred bytes of the limit;
    // the certificate the mapping template adds then pushes the execution input over it.
    const findings = Array.from({ length: 100 }, (_, i) => ({
      ...REFERENCE_FINDING,
      VulnID: `wide-${i}-`.padEnd(128, 'x'),
      PluginName: '中'.repeat(512),
      AssetName: '中'.repeat(255),
      Priority: '中'.repeat(64),
    }));
    // Every field at its maximum is over the limit: shorten asset names (3 bytes a character) to fit.
    let excess = Buffer.byteLength(JSON.stringify({ findings })) - (MAX_BODY_BYTES - 200);
    for (const finding of findings) {
      while (excess > 0 && finding.AssetName.length > 1) {
        finding.AssetName = finding.AssetName.slice(1);
        excess -= 3;
      }
    }
    const body = JSON.stringify({ findings });
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_BODY_BYTES - 400);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    try {
      const answer = await countStack.request(countStack.pki.scanner, {
        path: '/vuln',
        body,
        headers: { 'Content-Type': 'application/json' },
      });
      expect(answer.status).toBe(413);
      expect(answer.json()).toEqual({ message: 'Request body too large', requestId: answer.headers['x-amz-apigw-id'] });
    } finally {
      await countStack.close();
    }
  });

  it('an envelope the model refuses is the one 400 shape with a fixed issue, before the state machine runs', async () => {
    const envelope = {
      index: null,
      path: '',
      message:
        'must be one finding, or an object whose findings list holds 1 to 100 findings, each field a plain value or a list of plain values',
    };
    for (const body of [
      '{"VulnID":',
      '[{"VulnID":"x"}]',
      '"<script>"',
      JSON.stringify({ findings: [] }),
      JSON.stringify({ findings: ['x'] }),
    ]) {
      const answer = await stack.request(stack.pki.scanner, {
        path: '/vuln',
        body,
        headers: { 'Content-Type': 'application/json' },
      });
      expect([body, answer.status]).toEqual([body, 400]);
      expect(answer.json()).toEqual({
        message: 'Invalid request',
        requestId: answer.headers['x-amz-apigw-id'],
        errors: [envelope],
      });
    }
  });

  it('fields are named by the Validate step, by index and path of our schema, never echoing the client', async () => {
    const body = JSON.stringify({
      ...REFERENCE_FINDING,
      VulnID: 'x',
      DueDate: '2022-02-30',
      '<b>"injected"</b>': '$context.requestId',
    });
    const answer = await stack.request(stack.pki.scanner, {
      path: '/vuln',
      body,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(answer.status).toBe(400);
    expect(answer.json()).toEqual({
      message: 'Invalid request',
      requestId: answer.headers['x-amz-apigw-id'],
      errors: [
        { index: 0, path: 'DueDate', message: 'must be a real calendar date' },
        { index: 0, path: '', message: 'unknown field' },
      ],
    });
    expect(answer.body).not.toMatch(/injected|\$context/);
  });

  it('a GET without the required org parameter is the one 400 shape naming org', async () => {
    const answer = await stack.request(stack.pki.dashboard, { path: '/vuln' });
    expect(answer.status).toBe(400);
    expect(answer.json()).toEqual({
      message: 'Invalid request',
      requestId: answer.headers['x-amz-apigw-id'],
      errors: [{ index: null, path: 'org', message: 'is required' }],
    });
  });

  it('the GET function answers through the proxy integration with its own status and headers', async () => {
    const answer = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1&limit=abc' });
    expect(answer.status).toBe(400);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['x-amz-apigw-id']).toEqual(expect.any(String));
  });
});
