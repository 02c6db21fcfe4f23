/**
 * The error table (functions/shared/core/errors.ts) is the one source of what clients are told. The
 * ASL's "Answer …" states, the gateway responses and the integration response templates of
 * api/openapi.yaml repeat it where AWS needs it; this test reads them and fails on any status,
 * message, request id or Retry-After that differs from the table.
 */
import { ERROR_ANSWERS, FIXED_ISSUES, type ErrorAnswer } from '../../functions/shared/core/errors';
import { inputVariable, renderTemplate, type TemplateContext } from '../../local/gateway/vtl';
import { templateContext } from '../support/api';
import { openApi, readProjectFile } from './support';

const rows: ErrorAnswer[] = Object.values(ERROR_ANSWERS);
const rowFor = (status: number) => rows.find((row) => row.status === status);
const EXTENDED_ID = 'ExTeNdEdId0=';

/** The table row an answer claims to be: same status, same message. */
function expectTableAnswer(where: string, status: number, body: Record<string, unknown>) {
  const row = rowFor(status);
  expect([where, status, row?.message]).toEqual([where, status, body.message]);
}

interface AslPass {
  Type: string;
  Parameters?: { statusCode?: number; response?: Record<string, unknown> };
}

describe.each([
  ['statemachine/ingest.asl.json', [400, 403, 404, 409, 500, 503]],
  ['statemachine/scan-runs.asl.json', [400, 403, 404, 500, 503]],
])('the answer states of %s', (file, statuses) => {
  const states = Object.entries((JSON.parse(readProjectFile(file)) as { States: Record<string, AslPass> }).States);
  const answers = states.filter(
    ([, state]) =>
      state.Type === 'Pass' && typeof state.Parameters?.statusCode === 'number' && state.Parameters.statusCode >= 400,
  );

  it('answer with the table message and the request id', () => {
    expect(answers.map(([, state]) => state.Parameters?.statusCode).sort()).toEqual(statuses);
    for (const [name, state] of answers) {
      const response = state.Parameters?.response ?? {};
      expectTableAnswer(name, state.Parameters?.statusCode as number, response);
      expect([name, response['requestId.$']]).toEqual([name, '$.requestId']);
    }
  });

  it('give the 400 its issues from the Validate result, in the one 400 shape', () => {
    const [, badRequest] = answers.find(([, state]) => state.Parameters?.statusCode === 400) ?? [];
    expect(Object.keys(badRequest?.Parameters?.response ?? {})).toEqual(['message', 'requestId.$', 'errors.$']);
  });
});

const context = (): TemplateContext =>
  templateContext(
    {},
    { extendedRequestId: EXTENDED_ID, error: { message: 'x', messageString: '"x"', responseType: 'DEFAULT_4XX' } },
  );

interface GatewayResponse {
  statusCode?: string | number;
  responseTemplates?: Record<string, string>;
  responseParameters?: Record<string, string>;
}

describe('the gateway responses', () => {
  const responses = Object.entries(
    openApi()['x-amazon-apigateway-gateway-responses'] as Record<string, GatewayResponse>,
  );

  it.each(responses.filter(([, response]) => response.statusCode !== undefined))(
    '%s answers a table row with the extended request id',
    (type, response) => {
      const body = JSON.parse(
        renderTemplate(response.responseTemplates?.['application/json'] ?? '', inputVariable(''), context()).output,
      ) as Record<string, unknown>;
      expectTableAnswer(type, Number(response.statusCode), body);
      expect(body.requestId).toBe(EXTENDED_ID);
      if (body.errors !== undefined) expect(Object.values(FIXED_ISSUES)).toContainEqual((body.errors as unknown[])[0]);
      const retryAfter = response.responseParameters?.['gatewayresponse.header.Retry-After'];
      expect([type, retryAfter]).toEqual([
        type,
        rowFor(Number(response.statusCode))?.retryAfterSeconds === undefined
          ? undefined
          : `'${rowFor(Number(response.statusCode))?.retryAfterSeconds}'`,
      ]);
    },
  );

  it('the default 5XX answer is the table 500', () => {
    const [, fallback] = responses.find(([type]) => type === 'DEFAULT_5XX') ?? [];
    expectTableAnswer(
      'DEFAULT_5XX',
      500,
      JSON.parse(
        renderTemplate(fallback?.responseTemplates?.['application/json'] ?? '', inputVariable(''), context()).output,
      ) as Record<string, unknown>,
    );
  });

  it('the gateway refusals the table promises all have a response of their own', () => {
    const statuses = new Set(responses.map(([, response]) => Number(response.statusCode)));
    for (const status of [400, 403, 404, 413, 415, 429, 504])
      expect([status, statuses.has(status)]).toEqual([status, true]);
  });

  it('the fixed missing-parameter issue names the only required parameter of the API', () => {
    const required = Object.values(openApi().paths).flatMap((path) =>
      // A path parameter is required by OpenAPI's rules but can never be missing: without it the route does not match.
      Object.values(path).flatMap((operation) =>
        ((operation.parameters ?? []) as { name: string; in: string; required?: boolean }[])
          .filter((p) => p.required && p.in !== 'path')
          .map((p) => p.name),
      ),
    );
    expect([...new Set(required)]).toEqual([FIXED_ISSUES.missingOrg.path]);
  });
});

interface IntegrationResponse {
  statusCode: string;
  responseTemplates: Record<string, string>;
}

describe.each([['/vuln'], ['/scans'], ['/scans/{runId}/complete']])('the POST %s integration responses', (path) => {
  const post = openApi().paths[path]?.post as {
    responses: Record<string, unknown>;
    'x-amazon-apigateway-integration': { responses: Record<string, IntegrationResponse> };
  };
  const integration = post['x-amazon-apigateway-integration'].responses;
  const render = (pattern: string, body: unknown) => {
    const template = integration[pattern]?.responseTemplates['application/json'] ?? '';
    const rendered = renderTemplate(template, inputVariable(JSON.stringify(body)), context());
    return {
      status: rendered.statusOverride ?? Number(integration[pattern]?.statusCode),
      headers: rendered.headerOverrides,
      body: JSON.parse(rendered.output) as Record<string, unknown>,
    };
  };
  const machineAnswer = (statusCode: number) => ({
    status: 'SUCCEEDED',
    output: JSON.stringify({ statusCode, body: JSON.stringify({ message: rowFor(statusCode)?.message }) }),
  });

  it.each([
    ['a failed execution', 'default', { status: 'FAILED', error: 'x', cause: 'detail' }],
    ['a timed-out execution', 'default', { status: 'TIMED_OUT' }],
    ['Step Functions throttling', '4\\d{2}', { __type: 'ThrottlingException', message: 'Rate exceeded' }],
    [
      'an input over the length constraint',
      '4\\d{2}',
      { __type: 'ValidationException', message: "Value at 'input' failed to satisfy constraint" },
    ],
    ['any other refusal', '4\\d{2}', { __type: 'InvalidExecutionInput', message: 'x' }],
    ['a Step Functions failure', '5\\d{2}', { __type: 'InternalFailure', message: 'x' }],
    ['the machine answering 503', 'default', machineAnswer(503)],
  ])('%s is a table answer, Retry-After where the table asks for it', (label, pattern, body) => {
    const answer = render(pattern, body);
    expectTableAnswer(label, answer.status, answer.body);
    expect([label, answer.headers['Retry-After']]).toEqual([
      label,
      rowFor(answer.status)?.retryAfterSeconds?.toString(),
    ]);
  });

  it('maps throttling to 429 and the oversize input to 413', () => {
    expect(render('4\\d{2}', { __type: 'ThrottlingException' }).status).toBe(429);
    expect(render('4\\d{2}', { __type: 'ValidationException' }).status).toBe(413);
  });

  it('declares every status it can send as a method response', () => {
    const declared = Object.keys(post.responses).map(Number).sort();
    const expected: Record<string, number[]> = {
      '/vuln': [200, 400, 403, 404, 409, 413, 429, 500, 503, 504],
      '/scans': [201, 400, 403, 413, 429, 500, 503, 504],
      '/scans/{runId}/complete': [202, 404, 413, 429, 500, 503, 504],
    };
    expect(declared).toEqual(expected[path]);
    for (const status of declared.filter((code) => code >= 400))
      expect([status, rowFor(status)?.status]).toEqual([status, status]);
  });
});
