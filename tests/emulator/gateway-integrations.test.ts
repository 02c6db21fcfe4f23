/**
 * How the gateway answers when an integration misbehaves, with stand-in backends behind the real
 * gateway and TLS: each failure lands where API Gateway would put it, and is logged. Where the local
 * gateway must refuse what API Gateway refuses (undeclared method status, a mapping template that
 * fails, an integration timeout, client-chosen request ids) the test cites the AWS page it follows.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiResolver, STATE_MACHINE_ARN } from '../support/api';
import { call } from '../../client/mtls';
import { REFERENCE_FINDING } from '../../local/seed';
import { startGateway, type Gateway, type GatewayBackend } from '../../local/gateway/server';
import { createCertificateAuthority, type Issued } from '../../local/pki';
import { OPENAPI_PATH } from '../../local/gateway/openapi';
import { userAgent } from '../../client/user-agent';

const resolver = apiResolver();

let gateway: Gateway;
let caPem: string;
let client: Issued;
let server: Issued;
let backend: GatewayBackend;
const logs: Record<string, unknown>[] = [];
const behaviour: {
  invoke: (event: unknown) => Promise<unknown>;
  start: (input: string, name?: string) => Promise<unknown>;
} = {
  invoke: async () => ({ statusCode: 200, body: '{}' }),
  start: async () => ({}),
};
const received: { event?: Record<string, unknown>; input?: string; name?: string } = {};

beforeAll(async () => {
  const ca = await createCertificateAuthority('CN=Integration Test CA, O=Example Corp');
  server = await ca.issue({ subject: 'CN=localhost', kind: 'server' });
  client = await ca.issue({ subject: 'CN=scanner-01, OU=scanner, O=Example Corp', kind: 'client' });
  caPem = ca.certPem;
  backend = {
    resolver,
    functions: {
      invoke: (_functionId, event) => {
        received.event = event as Record<string, unknown>;
        return behaviour.invoke(event);
      },
    },
    stateMachine: {
      arn: STATE_MACHINE_ARN,
      startSyncExecution: (input, name) => {
        Object.assign(received, { input, name });
        return behaviour.start(input, name) as never;
      },
    },
  };
  gateway = await startGateway({
    backend,
    tls: server,
    truststorePem: ca.certPem,
    port: 0,
    log: (entry) => logs.push(entry),
  });
});

afterAll(async () => {
  await gateway?.close();
});

const get = (path = '/vuln?org=org1') =>
  call(gateway.url, { path, identity: client, caPem, userAgent: userAgent('tests'), headers: { 'X-Custom': 'a' } });
const post = () =>
  call(gateway.url, { path: '/vuln', body: REFERENCE_FINDING, identity: client, caPem, userAgent: userAgent('tests') });
const errors = () => logs.filter((entry) => entry.level === 'ERROR').map((entry) => entry.message);

/** A StartSyncExecution result from the stand-in state machine. */
const execution = (fields: Record<string, unknown>) => ({
  executionArn: 'arn:aws:states:us-east-1:000000000000:express:IngestStateMachine:x:y',
  stateMachineArn: STATE_MACHINE_ARN,
  name: 'x',
  startDate: new Date(),
  stopDate: new Date(),
  input: '{}',
  ...fields,
});

describe('the Lambda proxy integration', () => {
  it('sends an API Gateway REST proxy event with the client certificate', async () => {
    await get('/vuln?org=org1&severity=HIGH&severity=LOW');
    const event = received.event as {
      requestContext: { identity: { clientCert: { clientCertPem: string; validity: { notAfter: string } } } };
    };
    expect(event).toMatchObject({
      resource: '/vuln',
      path: '/vuln',
      httpMethod: 'GET',
      queryStringParameters: { org: 'org1', severity: 'LOW' },
      multiValueQueryStringParameters: { org: ['org1'], severity: ['HIGH', 'LOW'] },
      pathParameters: null,
      body: null,
      isBase64Encoded: false,
      headers: expect.objectContaining({ 'X-Custom': 'a', 'X-Forwarded-Proto': 'https' }),
      multiValueHeaders: expect.objectContaining({ 'X-Custom': ['a'] }),
      requestContext: { stage: 'v1', resourcePath: '/vuln', httpMethod: 'GET', identity: { sourceIp: '127.0.0.1' } },
    });
    const cert = event.requestContext.identity.clientCert;
    expect(cert).toMatchObject({
      subjectDN: 'CN=scanner-01,OU=scanner,O=Example Corp',
      issuerDN: 'CN=Integration Test CA,O=Example Corp',
      serialNumber: (
        client.serialNumber
          .padStart(client.serialNumber.length + (client.serialNumber.length % 2), '0')
          .toLowerCase()
          .match(/../g) ?? []
      ).join(':'),
    });
    expect(cert.clientCertPem).toContain('BEGIN CERTIFICATE');
    expect(cert.validity.notAfter).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} GMT$/);
  });

  it('a GET without the required query parameter never reaches the function', async () => {
    delete received.event;
    expect((await get('/vuln')).status).toBe(400);
    expect(received.event).toBeUndefined();
  });

  it.each([
    ['a malformed proxy result', async () => ({ statusCode: 200, body: { not: 'a string' } })],
    ['a function error', async () => Promise.reject(Object.assign(new Error('boom'), { name: 'TypeError' }))],
  ])('%s is 502 Internal server error', async (_name, invoke) => {
    behaviour.invoke = invoke;
    const answer = await get();
    expect(answer.status).toBe(502);
    expect(answer.json()).toEqual({ message: 'Internal server error', requestId: answer.headers['x-amz-apigw-id'] });
  });
});

describe('the Step Functions integration', () => {
  it('sends the body, the extended request id and the certificate PEM once, and answers with the machine output', async () => {
    behaviour.start = async () =>
      execution({ status: 'SUCCEEDED', output: JSON.stringify({ statusCode: 200, body: '{"ok":true}' }) });
    const answer = await post();
    expect([answer.status, answer.json()]).toEqual([200, { ok: true }]);
    // No execution name: Step Functions generates one.
    expect(received.name).toBeUndefined();
    const input = JSON.parse(received.input as string) as { principal: { certPem: string } };
    expect(input).toEqual({
      body: REFERENCE_FINDING,
      requestId: answer.headers['x-amz-apigw-id'],
      sourceIp: '127.0.0.1',
      principal: { certPem: expect.any(String) },
    });
    expect(input.principal.certPem.trim()).toBe(client.certPem.trim());
  });

  it('a machine status the method does not declare is a configuration error: a bare 500', async () => {
    behaviour.start = async () =>
      execution({ status: 'SUCCEEDED', output: JSON.stringify({ statusCode: 202, body: '{}' }) });
    const answer = await post();
    expect([answer.status, answer.json()]).toEqual([
      500,
      { message: 'Internal server error', requestId: answer.headers['x-amz-apigw-id'] },
    ]);
    expect(errors()).toContain(
      'Execution failed due to configuration error: Output mapping refers to an invalid method response: 202',
    );
  });

  it('a failed execution is a generic 500 that does not leak the cause', async () => {
    behaviour.start = async () => execution({ status: 'FAILED', error: 'States.Runtime', cause: 'secret internals' });
    const answer = await post();
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('secret');
  });

  it("an execution input over the API's length constraint (ValidationException) is the 4xx integration response: 413", async () => {
    behaviour.start = async () =>
      Promise.reject(
        Object.assign(new Error("Value at 'input' failed to satisfy constraint"), { code: 'ValidationException' }),
      );
    const answer = await post();
    expect(answer.status).toBe(413);
    expect(answer.json()).toEqual({ message: 'Request body too large', requestId: answer.headers['x-amz-apigw-id'] });
  });

  it('Step Functions throttling (HTTP 400 ThrottlingException) is 429 with Retry-After, not a 500', async () => {
    behaviour.start = async () =>
      Promise.reject(Object.assign(new Error('Rate exceeded'), { code: 'ThrottlingException' }));
    const answer = await post();
    expect([answer.status, answer.headers['retry-after'], answer.json()]).toEqual([
      429,
      '1',
      { message: 'Too many requests', requestId: answer.headers['x-amz-apigw-id'] },
    ]);
  });

  it('any other request Step Functions refuses (HTTP 400) is the 4xx integration response: 500', async () => {
    behaviour.start = async () =>
      Promise.reject(Object.assign(new Error('no such machine'), { code: 'StateMachineDoesNotExist' }));
    const answer = await post();
    expect(answer.status).toBe(500);
    expect(answer.json()).toMatchObject({ message: 'Internal server error' });
  });

  it('a Step Functions failure (HTTP 5xx) is the 5xx integration response: 503', async () => {
    behaviour.start = async () => Promise.reject(new Error('connection reset'));
    const answer = await post();
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json()).toMatchObject({ message: 'Service temporarily unavailable' });
    expect(errors()).toContain('StartSyncExecution failed');
  });

  it('an output the response template cannot read is a configuration error: 500, logged', async () => {
    behaviour.start = async () => execution({ status: 'SUCCEEDED', output: 'not json' });
    const answer = await post();
    expect(answer.status).toBe(500);
    expect(errors()).toContain('Execution failed due to configuration error: Unable to transform response');
  });
});

describe('what API Gateway refuses, the local gateway refuses', () => {
  /** A gateway over a changed copy of api/openapi.yaml, with the same stand-in backend. */
  async function withDocument(change: (text: string) => string, run: (variant: Gateway) => Promise<void>) {
    const directory = await mkdtemp(join(tmpdir(), 'openapi-variant-'));
    const path = join(directory, 'openapi.yaml');
    const original = await readFile(OPENAPI_PATH, 'utf8');
    const changed = change(original);
    expect(changed).not.toBe(original);
    await writeFile(path, changed);
    const variant = await startGateway({
      backend,
      tls: server,
      truststorePem: caPem,
      port: 0,
      log: (entry) => logs.push(entry),
      openApiPath: path,
    });
    try {
      await run(variant);
    } finally {
      await variant.close();
      await rm(directory, { recursive: true, force: true });
    }
  }
  const postTo = (variant: Gateway) =>
    call(variant.url, {
      path: '/vuln',
      body: REFERENCE_FINDING,
      identity: client,
      caPem,
      userAgent: userAgent('tests'),
    });

  it('an integration response whose status is not a method response is a bare 500', async () => {
    // "Output mapping refers to an invalid method response": API Gateway requires every integration
    // response's status to be a declared method response (API Gateway Developer Guide, "Set up an
    // integration response" / "Set up a method response"). Here 503 loses its method response.
    behaviour.start = async () => Promise.reject(new Error('connection reset'));
    await withDocument(
      (text) =>
        text.replace(
          /\n {8}'503':\n {10}description: A dependency kept failing; retry after the delay\.\n(?: {10,}.*\n)+?(?= {8}'504')/,
          '\n',
        ),
      async (variant) => {
        const answer = await postTo(variant);
        expect([answer.status, answer.json()]).toEqual([
          500,
          { message: 'Internal server error', requestId: answer.headers['x-amz-apigw-id'] },
        ]);
        expect(answer.headers['retry-after']).toBeUndefined();
        expect(errors()).toContain(
          'Execution failed due to configuration error: Output mapping refers to an invalid method response: 503',
        );
      },
    );
  });

  it('a request mapping template that fails is a configuration error: 500, and the integration is not called', async () => {
    // API Gateway logs "Execution failed due to configuration error: Unable to transform request" and
    // answers 500 (response type API_CONFIGURATION_ERROR, "Gateway response types", API Gateway Developer Guide).
    delete received.input;
    await withDocument(
      (text) =>
        text.replace(
          '#set($quote = "\\\\\'")',
          "#set($broken = $util.parseJson('not json'))\n                #set($quote = \"\\\\'\")",
        ),
      async (variant) => {
        const answer = await postTo(variant);
        expect([answer.status, answer.json()]).toEqual([
          500,
          { message: 'Internal server error', requestId: answer.headers['x-amz-apigw-id'] },
        ]);
        expect(received.input).toBeUndefined();
        expect(errors()).toContain('Execution failed due to configuration error: Unable to transform request');
      },
    );
  });

  it('an integration slower than timeoutInMillis is 504 INTEGRATION_TIMEOUT', async () => {
    // "Amazon API Gateway quotas": the integration timeout is 50 ms to 29 s (timeoutInMillis); past it
    // API Gateway answers the INTEGRATION_TIMEOUT gateway response, 504 by default.
    let release: () => void = () => undefined;
    behaviour.start = () =>
      new Promise(
        (resolve) =>
          (release = () => resolve(execution({ status: 'SUCCEEDED', output: '{"statusCode":200,"body":"{}"}' }))),
      );
    try {
      await withDocument(
        (text) =>
          text.replace(
            'timeoutInMillis: 29000\n        requestTemplates',
            'timeoutInMillis: 50\n        requestTemplates',
          ),
        async (variant) => {
          const answer = await postTo(variant);
          expect([answer.status, answer.json()]).toEqual([
            504,
            { message: 'Gateway timeout', requestId: answer.headers['x-amz-apigw-id'] },
          ]);
        },
      );
    } finally {
      release();
    }
  });

  it('a client may choose $context.requestId (x-amzn-RequestId, a UUID) but never the extended id everything correlates on', async () => {
    // "Variables for access logging for API Gateway": $context.requestId "Clients can override this
    // request ID"; $context.extendedRequestId is "a unique request ID that API Gateway generates".
    behaviour.start = async () =>
      execution({ status: 'SUCCEEDED', output: JSON.stringify({ statusCode: 200, body: '{}' }) });
    const chosen = '11111111-2222-3333-4444-555555555555';
    const answer = await call(gateway.url, {
      path: '/vuln',
      body: REFERENCE_FINDING,
      identity: client,
      caPem,
      userAgent: userAgent('tests'),
      headers: { 'x-amzn-RequestId': chosen },
    });
    expect(answer.headers['x-amzn-requestid']).toBe(chosen);
    const extended = answer.headers['x-amz-apigw-id'] as string;
    expect(extended).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(JSON.parse(received.input as string).requestId).toBe(extended);
    const other = await call(gateway.url, {
      path: '/vuln',
      body: REFERENCE_FINDING,
      identity: client,
      caPem,
      userAgent: userAgent('tests'),
      headers: { 'x-amzn-RequestId': chosen },
    });
    expect(other.headers['x-amz-apigw-id']).not.toBe(extended);
    const notUuid = await call(gateway.url, {
      path: '/nowhere',
      identity: client,
      caPem,
      userAgent: userAgent('tests'),
      headers: { 'x-amzn-RequestId': 'my-id' },
    });
    expect(notUuid.headers['x-amzn-requestid']).not.toBe('my-id');
    expect(notUuid.json()).toEqual({ message: 'Not found', requestId: notUuid.headers['x-amz-apigw-id'] });
  });
});
