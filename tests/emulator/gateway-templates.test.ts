/**
 * The gateway's API Gateway emulation, piece by piece: Java string semantics in VTL, the request
 * model validator, the OpenAPI document as routes, and the proxy result rules.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENVELOPE_MODEL_NAME, envelopeJsonSchema } from '../../api/request-model';
import { escapeJavaScript, javaReplaceAll } from '../../local/gateway/java-string';
import { SchemaValidator } from '../../local/gateway/json-schema';
import { loadApiDefinition, matchResource, OPENAPI_PATH } from '../../local/gateway/openapi';
import { answerFromProxyResult } from '../../local/gateway/proxy-integration';
import { REFERENCE_FINDING } from '../../local/seed';
import { resolveTruststore } from '../../local/truststore';
import { createCertificateAuthority } from '../../local/pki';
import { inputVariable, renderTemplate, type ClientCertificateContext } from '../../local/gateway/vtl';
import { apiResolver, FUNCTION_ARN, STATE_MACHINE_ARN, templateContext } from '../support/api';
import { parseCloudFormation } from '../../local/cloudformation/template';

const resolver = apiResolver();
const context = (clientCert: Partial<ClientCertificateContext> = {}) => templateContext(clientCert);

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
    const rendered = renderTemplate(
      `#set($q = "\\\\'")$util.escapeJavaScript($input.body).replaceAll($q, "'")|$input.body.length()`,
      inputVariable(`O'Neil`),
      context(),
    );
    expect(rendered.output).toBe(`O'Neil|6`);
  });
});

describe('the POST mapping templates of api/openapi.yaml', () => {
  const api = loadApiDefinition(resolver);
  const post = api.resources.get('/vuln')?.get('POST');
  if (post?.integration.type !== 'aws') throw new Error('POST /vuln must be an aws integration');
  const { requestTemplates, responses } = post.integration;

  it('builds a StartSyncExecution request whose input carries the body and the certificate PEM exactly, once', () => {
    const body = { ...REFERENCE_FINDING, PluginName: `O'Brien "x" \\ / é 😀 \u2028` };
    const certPem = `-----BEGIN CERTIFICATE-----\nMIIB/w=="'\\</\n-----END CERTIFICATE-----\n`;
    const rendered = renderTemplate(
      requestTemplates['application/json'] as string,
      inputVariable(JSON.stringify(body)),
      context({ clientCertPem: certPem }),
    );
    const request = JSON.parse(rendered.output) as Record<string, unknown>;
    expect(Object.keys(request).sort()).toEqual(['input', 'stateMachineArn']);
    expect(request.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(JSON.parse(request.input as string)).toEqual({
      body,
      requestId: context().extendedRequestId,
      sourceIp: '203.0.113.10',
      principal: { certPem },
    });
  });

  it('unwraps the machine output and maps failed and timed-out executions', () => {
    const template = responses.find((response) => response.pattern === 'default')?.responseTemplates[
      'application/json'
    ] as string;
    const succeeded = renderTemplate(
      template,
      inputVariable(
        JSON.stringify({
          status: 'SUCCEEDED',
          output: JSON.stringify({ statusCode: 403, body: '{"message":"Forbidden"}' }),
        }),
      ),
      context(),
    );
    expect([succeeded.statusOverride, JSON.parse(succeeded.output)]).toEqual([403, { message: 'Forbidden' }]);
    const failed = renderTemplate(
      template,
      inputVariable(JSON.stringify({ status: 'FAILED', error: 'x', cause: 'secret detail' })),
      context(),
    );
    expect([failed.statusOverride, JSON.parse(failed.output)]).toEqual([
      500,
      { message: 'Internal server error', requestId: context().extendedRequestId },
    ]);
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
    expect(operations?.get('POST')).toMatchObject({
      validateBody: true,
      integration: { type: 'aws', passthroughBehavior: 'never' },
    });
    expect(matchResource(api, '/vuln/1')).toBeUndefined();
  });

  it('validates bodies with the envelope model: the shape and count, not the fields', () => {
    const document = parseCloudFormation<{ components: { schemas: Record<string, unknown> } }>(
      readFileSync(OPENAPI_PATH, 'utf8'),
    );
    expect(document.components.schemas[ENVELOPE_MODEL_NAME]).toEqual(envelopeJsonSchema());
    const model = api.resources.get('/vuln')?.get('POST')?.bodyModels['application/json'];
    expect(model?.validate(REFERENCE_FINDING)).toBeUndefined();
    expect(model?.validate({ findings: [REFERENCE_FINDING, { ...REFERENCE_FINDING, VulnID: 'b' }] })).toBeUndefined();
    // Field rules are the Validate step's, which names each field.
    expect(model?.validate({ ...REFERENCE_FINDING, PluginId: 1.5 })).toBeUndefined();
    expect(model?.validate({ findings: Array.from({ length: 101 }, () => REFERENCE_FINDING) })).toBeDefined();
    expect(model?.validate([REFERENCE_FINDING])).toBeDefined();
  });

  it('refuses a model with a keyword it would not enforce', () => {
    expect(() => new SchemaValidator({ type: 'string', format: 'email' })).toThrow(/format/);
  });
});

describe('Lambda proxy results', () => {
  it('maps a well-formed result', () => {
    expect(
      answerFromProxyResult({
        statusCode: 201,
        headers: { 'X-A': 'b' },
        multiValueHeaders: { 'X-M': ['1', '2'] },
        body: '{}',
      }),
    ).toEqual({
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
    for (const name of ['dev', 'bundle', 'operator'])
      certificates.set(name, (await createCertificateAuthority(`CN=${name} CA`)).certPem);
    root = await mkdtemp(join(tmpdir(), 'vuln-api-truststore-'));
    await mkdir(join(root, 'truststore'));
    await writeFile(join(root, 'dev-ca.pem'), pem('dev'));
    await writeFile(join(root, 'bundle.pem'), pem('bundle'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is $TRUSTSTORE, else truststore/ca.pem, else the dev CA', async () => {
    const resolve = (environment: NodeJS.ProcessEnv = {}) =>
      resolveTruststore({ environment, projectRoot: root, devCaPath: join(root, 'dev-ca.pem') }).source;
    expect(resolve()).toBe(join(root, 'dev-ca.pem'));
    await writeFile(join(root, 'truststore/ca.pem'), pem('operator'));
    expect(resolve()).toBe(join(root, 'truststore/ca.pem'));
    expect(resolve({ TRUSTSTORE: join(root, 'bundle.pem') })).toBe(join(root, 'bundle.pem'));
    expect(() => resolve({ TRUSTSTORE: join(root, 'missing.pem') })).toThrow(/does not exist/);
  });
});
