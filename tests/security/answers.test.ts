/**
 * [9] Safe answers from the running local stack: names that collide with Object.prototype, raw client
 * text, the security headers on every answer, and page tokens an attacker edits or forges.
 */
import { createHash } from 'node:crypto';
import { loadApiDefinition } from '../../local/gateway/openapi';
import { gatewayResponse, type GatewayResponseType } from '../../local/gateway/gateway-responses';
import { REFERENCE_FINDING } from '../../local/seed';
import type { CallResult } from '../../client/mtls';
import { startTestStack, type TestStack } from '../support/local-stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
  const findings = ['page-1', 'page-2', 'page-3'].flatMap((VulnID) => [
    { ...REFERENCE_FINDING, VulnID },
    { ...REFERENCE_FINDING, VulnID, Org: 'org2' },
  ]);
  expect((await stack.request(stack.pki.scanner, { path: '/vuln', body: { findings } })).status).toBe(200);
});

afterAll(async () => {
  await stack?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  stack.request(stack.pki.dashboard, { path, headers });
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

describe('names from Object.prototype', () => {
  it.each(PROTOTYPE_NAMES)('a query parameter named %s is a 400, never a 5xx', async (name) => {
    const answer = await get(`/vuln?org=org1&${name}=1`);
    expect(answer.status).toBe(400);
    expect(answer.body).not.toContain(name);
  });

  it.each(PROTOTYPE_NAMES)('a header named %s changes nothing', async (name) => {
    expect((await get('/vuln?org=org1', { [name]: 'x' })).status).toBe(200);
    expect(
      (await stack.request(stack.pki.scanner, { path: '/vuln', body: REFERENCE_FINDING, headers: { [name]: 'x' } }))
        .status,
    ).toBe(200);
  });

  it('a repeated prototype name is a 400 too', async () => {
    expect((await get('/vuln?org=org1&__proto__=1&__proto__=2')).status).toBe(400);
  });
});

describe('no answer repeats client text', () => {
  it('an unknown parameter is reported without its name', async () => {
    const answer = await get(`/vuln?org=org1&${encodeURIComponent('<script>alert(1)</script>')}=1`);
    expect(answer.status).toBe(400);
    expect(answer.body).not.toMatch(/script|alert/);
    expect(answer.json()).toMatchObject({
      errors: [{ path: '', message: expect.stringContaining('unknown query parameter') }],
    });
  });
});

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
};

describe('security headers on every answer', () => {
  const cases: [string, number, () => Promise<CallResult>][] = [
    ['GET 200', 200, () => get('/vuln?org=org1')],
    ['GET 400 (the function)', 400, () => get('/vuln?org=org1&limit=0')],
    ['GET 400 (the validator: org missing)', 400, () => get('/vuln')],
    ['GET 403 (not granted)', 403, () => get('/vuln?org=org9')],
    ['POST 200', 200, () => stack.request(stack.pki.scanner, { path: '/vuln', body: REFERENCE_FINDING })],
    [
      'POST 400 (the workflow)',
      400,
      () => stack.request(stack.pki.scanner, { path: '/vuln', body: { ...REFERENCE_FINDING, DueDate: 'soon' } }),
    ],
    [
      'POST 403 (not granted)',
      403,
      () => stack.request(stack.pki.dashboard, { path: '/vuln', body: REFERENCE_FINDING }),
    ],
    [
      'POST 413',
      413,
      () =>
        stack.request(stack.pki.scanner, {
          path: '/vuln',
          body: 'x'.repeat(300 * 1024),
          headers: { 'content-type': 'application/json' },
        }),
    ],
    [
      'POST 415',
      415,
      () => stack.request(stack.pki.scanner, { path: '/vuln', body: 'a=b', headers: { 'content-type': 'text/plain' } }),
    ],
    ['an unknown route (404)', 404, () => get('/elsewhere')],
    ['no client certificate (403)', 403, () => stack.request(undefined, { path: '/vuln?org=org1' })],
  ];
  it.each(cases)('%s', async (_label, status, send) => {
    const answer = await send();
    expect(answer.status).toBe(status);
    expect(answer.headers).toMatchObject(SECURITY_HEADERS);
  });

  it('every gateway response type and every integration response of the API declares them', () => {
    const api = loadApiDefinition(stack.stack.backend.resolver);
    const context = { requestId: 'r', extendedRequestId: 'e' } as unknown as Parameters<typeof gatewayResponse>[3];
    const types: GatewayResponseType[] = [
      'MISSING_AUTHENTICATION_TOKEN',
      'BAD_REQUEST_BODY',
      'BAD_REQUEST_PARAMETERS',
      'UNSUPPORTED_MEDIA_TYPE',
      'REQUEST_TOO_LARGE',
      'THROTTLED',
      'API_CONFIGURATION_ERROR',
      'INTEGRATION_FAILURE',
      'INTEGRATION_TIMEOUT',
    ];
    for (const type of types) {
      const lower = Object.fromEntries(
        Object.entries(gatewayResponse(api, type, 'm', context).headers).map(([name, value]) => [
          name.toLowerCase(),
          value,
        ]),
      );
      expect([type, lower]).toEqual([type, expect.objectContaining(SECURITY_HEADERS)]);
    }
    const post = [...api.resources.values()]
      .flatMap((resource) => [...resource.values()])
      .find((operation) => operation.integration.type === 'aws');
    const responses = post?.integration.type === 'aws' ? post.integration.responses : [];
    expect(responses.length).toBeGreaterThanOrEqual(3);
    for (const response of responses) {
      expect([response.pattern, response.responseParameters]).toEqual([
        response.pattern,
        expect.objectContaining({
          'method.response.header.Cache-Control': "'no-store'",
          'method.response.header.X-Content-Type-Options': "'nosniff'",
          'method.response.header.Strict-Transport-Security': expect.stringMatching(/^'max-age=\d+/),
        }),
      ]);
    }
  });
});

describe('page tokens carry a MAC with a key the client never sees', () => {
  const firstToken = async (org: string) =>
    ((await get(`/vuln?org=${org}&limit=1`)).json() as { nextToken: string }).nextToken;

  it('a valid token gets the next page', async () => {
    const answer = await get(`/vuln?org=org1&limit=1&nextToken=${encodeURIComponent(await firstToken('org1'))}`);
    expect(answer.status).toBe(200);
  });

  it('a token re-checksummed without the key is refused (400, no page)', async () => {
    const payload = Buffer.from(JSON.stringify({ o: 'org1', k: 'page-2' })).toString('base64url');
    const forgedV1 = `${payload}.${createHash('sha256').update(`vuln-page-token:v1:${payload}`).digest('base64url').slice(0, 22)}`;
    const forgedV2 = `${payload}.${createHash('sha256').update(`vuln-page-token:v2:${payload}`).digest('base64url')}`;
    for (const token of [forgedV1, forgedV2]) {
      const answer = await get(`/vuln?org=org1&limit=1&nextToken=${encodeURIComponent(token)}`);
      expect(answer.status).toBe(400);
      expect(answer.json()).toMatchObject({ errors: [{ path: 'nextToken' }] });
      expect(answer.body).not.toContain('items');
    }
  });

  it("an edited token and another org's token are refused (400)", async () => {
    const token = await firstToken('org1');
    const [payload = '', tag = ''] = token.split('.');
    const edited = `${Buffer.from(
      Buffer.from(payload, 'base64url')
        .toString('utf8')
        .replace(/page-\d/, 'page-3'),
    ).toString('base64url')}.${tag}`;
    for (const bad of [edited, await firstToken('org2'), `${token}x`, 'garbage']) {
      expect((await get(`/vuln?org=org1&limit=1&nextToken=${encodeURIComponent(bad)}`)).status).toBe(400);
    }
  });
});
