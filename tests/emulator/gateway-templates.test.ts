/**
 * The gateway's API Gateway emulation, piece by piece: Java string semantics in VTL, the request
 * model validator, the OpenAPI document as routes, and the proxy result rules.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postBodyJsonSchema } from '../../functions/shared/core/finding-schema';
import { escapeJavaScript, javaReplaceAll } from '../../local/gateway/java-string';
import { SchemaValidator } from '../../local/gateway/json-schema';
import { loadApiDefinition, matchResource, OPENAPI_PATH } from '../../local/gateway/openapi';
import { answerFromProxyResult } from '../../local/gateway/proxy-integration';
import { REFERENCE_FINDING } from '../../local/seed';
import { resolveTruststore } from '../../local/truststore';
import { createCertificateAuthority } from '../../local/pki';
import { inputVariable, renderTemplate, type TemplateContext } from '../../local/gateway/vtl';
import { LocalResolver } from '../../local/cloudformation/intrinsics';
import { loadTemplate, parseCloudFormation } from '../../local/cloudformation/template';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:IngestStateMachine';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:GetFindingsFunction';
const resolver = new LocalResolver(loadTemplate(), {
  refs: { IngestStateMachine: STATE_MACHINE_ARN },
  attributes: { 'GetFindingsFunction.Arn': FUNCTION_ARN, 'ApiStepFunctionsRole.Arn': 'arn:aws:iam::000000000000:role/ApiStepFunctionsRole' },
});

const context = (clientCert: Partial<NonNullable<TemplateContext['identity']['clientCert']>> = {}): TemplateContext => ({
  requestId: 'request-1',
  extendedRequestId: 'extended',
  httpMethod: 'POST',
  resourcePath: '/vuln',
  path: '/vuln',
  stage: 'v1',
  requestTime: '22/Nov/2026:09:57:07 +0000',
  requestTimeEpoch: 0,
  protocol: 'HTTP/1.1',
  domainName: 'localhost',
  apiId: 'local',
  accountId: '000000000000',
  identity: {
    sourceIp: '127.0.0.1',
    userAgent: null,
    clientCert: {
      clientCertPem: '-----BEGIN CERTIFICATE-----\nMIIB/w==\n-----END CERTIFICATE-----\n',
      subjectDN: 'CN=scanner-01,OU=scanner,O=Example Corp',
      issuerDN: 'CN=Dev CA,O=Example Corp',
      serialNumber: '4a:0b',
      validity: { notBefore: 'Nov 22 09:57:07 2026 GMT', notAfter: 'Dec 24 09:57:07 2027 GMT' },
      ...clientCert,
    },
  },
});

describe('Java string semantics', () => {
  it('escapeJavaScript is commons-lang StringEscapeUtils.escapeJavaScript', () => {
    expect(escapeJavaScript(`a'b"c\\d/e`)).toBe(`a\\'b\\"c\\\\d\\/e`);
    expect(escapeJavaScript('\b\t\n\f\r\u0001\u001f\u007f')).toBe('\\b\\t\\n\\f\\r\\u0001\\u001F\u007f');
    expect(escapeJavaScript('é日😀')).toBe('\\u00E9\\u65E5\\uD83D\\uDE00');
  });

  it('replaceAll takes a Java regex and a Java replacement', () => {
    // velocityjs leaves "\\'" as three characters: a regex matching a backslash and a quote.
    expect(javaReplaceAll(`it\\'s`, `\\\\'`, `'`)).toBe(`it's`);
    expect(javaReplaceAll('2024-01-31', '(\\d+)-(\\d+)-(\\d+)', '$3/$2/$1')).toBe('31/01/2024');
    expect(javaReplaceAll('a-b', '-', '\\$')).toBe('a$b');
    expect(() => javaReplaceAll('a-b', '-', '$')).toThrow(/group/);
  });

  it('the template calls reach Java semantics through velocityjs', () => {
    const rendered = renderTemplate(`#set($q = "\\\\'")$util.escapeJavaScript($input.body).replaceAll($q, "'")|$input.body.length()`, inputVariable(`O'Neil`), context());
    expect(rendered.output).toBe(`O'Neil|6`);
  });
});

describe('the POST mapping templates of api/openapi.yaml', () => {
  const api = loadApiDefinition(resolver);
  const post = api.resources.get('/vuln')?.get('POST');
  if (post?.integration.type !== 'aws') throw new Error('POST /vuln must be an aws integration');
  const { requestTemplates, responses } = post.integration;

  it('builds a StartSyncExecution request whose input carries the body and the certificate exactly', () => {
    const body = { ...REFERENCE_FINDING, PluginName: `O'Brien "x" \\ / é 😀 \u2028` };
    const certificate = { subjectDN: `CN=O'Neil \\, "Jr",OU=scanner,O=Example Corp` };
    const rendered = renderTemplate(requestTemplates['application/json'] as string, inputVariable(JSON.stringify(body)), context(certificate));
    const request = JSON.parse(rendered.output) as { stateMachineArn: string; name: string; input: string };
    expect(request.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(request.name).toBe('request-1');
    expect(JSON.parse(request.input)).toEqual({
      body,
      requestId: 'request-1',
      sourceIp: '127.0.0.1',
      principal: {
        subjectDN: certificate.subjectDN,
        issuerDN: 'CN=Dev CA,O=Example Corp',
        serialNumber: '4a:0b',
        notBefore: 'Nov 22 09:57:07 2026 GMT',
        notAfter: 'Dec 24 09:57:07 2027 GMT',
        certPem: context().identity.clientCert?.clientCertPem,
      },
    });
  });

  it('unwraps the machine output and maps failed and timed-out executions', () => {
    const template = responses.find((response) => response.pattern === 'default')?.responseTemplates['application/json'] as string;
    const succeeded = renderTemplate(template, inputVariable(JSON.stringify({ status: 'SUCCEEDED', output: JSON.stringify({ statusCode: 403, body: '{"message":"Forbidden"}' }) })), context());
    expect([succeeded.statusOverride, JSON.parse(succeeded.output)]).toEqual([403, { message: 'Forbidden' }]);
    const failed = renderTemplate(template, inputVariable(JSON.stringify({ status: 'FAILED', error: 'x', cause: 'secret detail' })), context());
    expect([failed.statusOverride, JSON.parse(failed.output)]).toEqual([500, { message: 'Internal server error', requestId: 'request-1' }]);
    const timedOut = renderTemplate(template, inputVariable(JSON.stringify({ status: 'TIMED_OUT' })), context());
    expect(timedOut.statusOverride).toBe(504);
  });
});

describe('the OpenAPI document as routes', () => {
  const api = loadApiDefinition(resolver);

  it('has POST and GET /vuln with their validators and integrations', () => {
    const operations = matchResource(api, '/vuln')?.operations;
    expect([...(operations?.keys() ?? [])].sort()).toEqual(['GET', 'POST']);
    expect(operations?.get('GET')).toMatchObject({
      validateBody: false,
      validateParameters: true,
      requiredParameters: { querystring: ['org'] },
      integration: { type: 'aws_proxy', functionArn: FUNCTION_ARN },
    });
    expect(operations?.get('POST')).toMatchObject({ validateBody: true, integration: { type: 'aws', passthroughBehavior: 'never' } });
    expect(matchResource(api, '/vuln/1')).toBeUndefined();
  });

  it('validates bodies with the PostFindingsRequest model, which matches the zod schema', () => {
    const document = parseCloudFormation<{ components: { schemas: Record<string, unknown> } }>(readFileSync(OPENAPI_PATH, 'utf8'));
    expect(document.components.schemas.PostFindingsRequest).toEqual(postBodyJsonSchema());
    const model = api.resources.get('/vuln')?.get('POST')?.bodyModels['application/json'];
    expect(model?.validate(REFERENCE_FINDING)).toBeUndefined();
    expect(model?.validate({ findings: [REFERENCE_FINDING, { ...REFERENCE_FINDING, VulnID: 'b' }] })).toBeUndefined();
    expect(model?.validate({ ...REFERENCE_FINDING, PluginId: 1.5 })).toBeDefined();
    expect(model?.validate({ ...REFERENCE_FINDING, Org: 'org 1' })).toBeDefined();
    expect(model?.validate({ ...REFERENCE_FINDING, PluginName: 'tab\there' })).toBeDefined();
    expect(model?.validate({ findings: Array.from({ length: 101 }, () => REFERENCE_FINDING) })).toBeDefined();
    expect(model?.validate([REFERENCE_FINDING])).toBeDefined();
  });

  it('refuses a model with a keyword it would not enforce', () => {
    expect(() => new SchemaValidator({ type: 'string', format: 'email' })).toThrow(/format/);
  });
});

describe('Lambda proxy results', () => {
  it('maps a well-formed result', () => {
    expect(answerFromProxyResult({ statusCode: 201, headers: { 'X-A': 'b' }, multiValueHeaders: { 'X-M': ['1', '2'] }, body: '{}' })).toEqual({
      status: 201,
      headers: { 'X-A': 'b', 'X-M': '1, 2' },
      body: '{}',
    });
  });

  it.each([
    ['not an object', 'hello'],
    ['no status code', { body: '{}' }],
    ['a body that is not a string', { statusCode: 200, body: { a: 1 } }],
    ['an unknown field', { statusCode: 200, body: '', extra: true }],
    ['headers that are not strings', { statusCode: 200, headers: { a: { b: 1 } } }],
  ])('calls %s malformed', (_name, result) => {
    expect(answerFromProxyResult(result)).toBeUndefined();
  });
});

describe('the truststore', () => {
  const certificates = new Map<string, string>();
  const pem = (name: string) => certificates.get(name) as string;
  let root: string;

  beforeAll(async () => {
    for (const name of ['dev', 'bundle', 'operator']) certificates.set(name, (await createCertificateAuthority(`CN=${name} CA`)).certPem);
    root = await mkdtemp(join(tmpdir(), 'vuln-api-truststore-'));
    await mkdir(join(root, 'truststore'));
    await writeFile(join(root, 'dev-ca.pem'), pem('dev'));
    await writeFile(join(root, 'bundle.pem'), pem('bundle'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is $TRUSTSTORE, else truststore/ca.pem, else the dev CA', async () => {
    const resolve = (environment: NodeJS.ProcessEnv = {}) => resolveTruststore({ environment, projectRoot: root, devCaPath: join(root, 'dev-ca.pem') }).source;
    expect(resolve()).toBe(join(root, 'dev-ca.pem'));
    await writeFile(join(root, 'truststore/ca.pem'), pem('operator'));
    expect(resolve()).toBe(join(root, 'truststore/ca.pem'));
    expect(resolve({ TRUSTSTORE: join(root, 'bundle.pem') })).toBe(join(root, 'bundle.pem'));
    expect(() => resolve({ TRUSTSTORE: join(root, 'missing.pem') })).toThrow(/does not exist/);
  });
});
