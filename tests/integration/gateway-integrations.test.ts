/**
 * How the gateway answers when an integration misbehaves, with stand-in backends behind the real
 * gateway and TLS: each failure lands where API Gateway would put it, and is logged.
 */
import { LocalResolver } from '../../local/intrinsics';
import { call } from '../../client/mtls';
import { REFERENCE_FINDING } from '../../local/gateway/seed';
import { startGateway, type Gateway, type GatewayBackend } from '../../local/gateway/server';
import { createCertificateAuthority, type Issued } from '../../local/pki';
import { loadTemplate } from '../../local/template';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:IngestStateMachine';
const resolver = new LocalResolver(loadTemplate(), {
  refs: { IngestStateMachine: STATE_MACHINE_ARN },
  attributes: {
    'GetFindingsFunction.Arn': 'arn:aws:lambda:us-east-1:000000000000:function:GetFindingsFunction',
    'ApiStepFunctionsRole.Arn': 'arn:aws:iam::000000000000:role/ApiStepFunctionsRole',
  },
});

let gateway: Gateway;
let caPem: string;
let client: Issued;
const logs: Record<string, unknown>[] = [];
const behaviour: { invoke: (event: unknown) => Promise<unknown>; start: (input: string, name?: string) => Promise<unknown> } = {
  invoke: async () => ({ statusCode: 200, body: '{}' }),
  start: async () => ({}),
};
const received: { event?: Record<string, unknown>; input?: string; name?: string } = {};

beforeAll(async () => {
  const ca = await createCertificateAuthority('CN=Integration Test CA, O=Example Corp');
  const server = await ca.issue({ subject: 'CN=localhost', kind: 'server' });
  client = await ca.issue({ subject: 'CN=scanner-01, OU=scanner, O=Example Corp', kind: 'client' });
  caPem = ca.certPem;
  const backend: GatewayBackend = {
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
  gateway = await startGateway({ backend, tls: server, truststorePem: ca.certPem, port: 0, log: (entry) => logs.push(entry) });
});

afterAll(async () => {
  await gateway?.close();
});

const get = (path = '/vuln?org=org1') => call(gateway.url, { path, identity: client, caPem, headers: { 'X-Custom': 'a' } });
const post = () => call(gateway.url, { path: '/vuln', body: REFERENCE_FINDING, identity: client, caPem });
const errors = () => logs.filter((entry) => entry.level === 'ERROR').map((entry) => entry.message);

describe('the Lambda proxy integration', () => {
  it('sends an API Gateway REST proxy event with the client certificate', async () => {
    await get('/vuln?org=org1&severity=HIGH&severity=LOW');
    const event = received.event as { requestContext: { identity: { clientCert: { clientCertPem: string; validity: { notAfter: string } } } } };
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
      serialNumber: (client.serialNumber.padStart(client.serialNumber.length + (client.serialNumber.length % 2), '0').toLowerCase().match(/../g) ?? []).join(':'),
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
    expect(answer.json()).toEqual({ message: 'Internal server error', requestId: answer.headers['x-amzn-requestid'] });
  });
});

describe('the Step Functions integration', () => {
  const execution = (fields: Record<string, unknown>) => ({
    executionArn: 'arn:aws:states:us-east-1:000000000000:express:IngestStateMachine:x:y',
    stateMachineArn: STATE_MACHINE_ARN,
    name: 'x',
    startDate: new Date(),
    stopDate: new Date(),
    input: '{}',
    ...fields,
  });

  it('names the execution after the request id and answers with the machine output', async () => {
    behaviour.start = async () => execution({ status: 'SUCCEEDED', output: JSON.stringify({ statusCode: 202, body: '{"ok":true}' }) });
    const answer = await post();
    expect([answer.status, answer.json()]).toEqual([202, { ok: true }]);
    expect(received.name).toBe(answer.headers['x-amzn-requestid']);
    expect(JSON.parse(received.input as string)).toMatchObject({ body: REFERENCE_FINDING, principal: { subjectDN: 'CN=scanner-01,OU=scanner,O=Example Corp' } });
  });

  it('a failed execution is a generic 500 that does not leak the cause', async () => {
    behaviour.start = async () => execution({ status: 'FAILED', error: 'States.Runtime', cause: 'secret internals' });
    const answer = await post();
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('secret');
  });

  it('an execution input Step Functions refuses as too large is the 4xx integration response: 413', async () => {
    behaviour.start = async () => Promise.reject(Object.assign(new Error('Input too large'), { code: 'InvalidExecutionInput' }));
    const answer = await post();
    expect(answer.status).toBe(413);
    expect(answer.json()).toEqual({ message: 'Request body too large', requestId: answer.headers['x-amzn-requestid'] });
  });

  it('any other request Step Functions refuses (HTTP 400) is the 4xx integration response: 500', async () => {
    behaviour.start = async () => Promise.reject(Object.assign(new Error('no such machine'), { code: 'StateMachineDoesNotExist' }));
    const answer = await post();
    expect(answer.status).toBe(500);
    expect(answer.json()).toMatchObject({ message: 'Internal server error' });
  });

  it('a Step Functions failure (HTTP 5xx) is the 5xx integration response: 503', async () => {
    behaviour.start = async () => Promise.reject(new Error('connection reset'));
    const answer = await post();
    expect(answer.status).toBe(503);
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
