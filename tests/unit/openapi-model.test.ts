/** API Gateway's request model is exactly what api/request-model.ts generates: the envelope, nothing of the fields. */
import { readFileSync } from 'node:fs';
import { ENVELOPE_MODEL_NAME, envelopeJsonSchema, OPENAPI_PATH, withGeneratedModel } from '../../api/request-model';
import { SchemaValidator } from '../../local/gateway/json-schema';
import { parseCloudFormation } from '../../local/cloudformation/template';
import { findingBatch, REFERENCE_FINDING } from '../support/findings';
import { FINDINGS_QUERY_PARAMETERS } from '../../functions/shared/core/get-findings-query';

const openapiText = readFileSync(OPENAPI_PATH, 'utf8');
const openapi = parseCloudFormation<{
  components: { schemas: Record<string, unknown> };
  paths: Record<string, Record<string, Record<string, unknown>>>;
}>(openapiText);

test('the request model equals the generated envelope model (run npm run generate:model)', () => {
  expect(openapi.components.schemas[ENVELOPE_MODEL_NAME]).toEqual(envelopeJsonSchema());
  expect(withGeneratedModel(openapiText)).toBe(openapiText);
});

test('POST /vuln validates its body with that model', () => {
  const post = openapi.paths['/vuln']?.post as {
    'x-amazon-apigateway-request-validator': string;
    requestBody: unknown;
  };
  expect(post['x-amazon-apigateway-request-validator']).toBe('body-and-params');
  expect(post.requestBody).toMatchObject({
    required: true,
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${ENVELOPE_MODEL_NAME}` } } },
  });
});

test('the model is JSON Schema draft 4, as API Gateway requires, and names no finding field', () => {
  const text = JSON.stringify(envelopeJsonSchema());
  expect(text).not.toMatch(/"(\$schema|const|\$defs|prefixItems|unevaluatedProperties)"/);
  expect(text).not.toMatch(/VulnID|Org|DueDate/);
});

describe('the envelope it checks', () => {
  const model = new SchemaValidator(envelopeJsonSchema());
  it.each([
    ['one finding', REFERENCE_FINDING],
    ['a batch of 100', { findings: findingBatch(100) }],
    ['an object missing every field (the Validate step names them)', {}],
  ])('passes %s', (_label, body) => expect(model.validate(body)).toBeUndefined());

  it.each([
    ['an array', [REFERENCE_FINDING]],
    ['a string', 'x'],
    ['null', null],
    ['no findings', { findings: [] }],
    ['101 findings', { findings: findingBatch(101) }],
    ['findings that are not objects', { findings: [1] }],
  ])('refuses %s', (_label, body) => expect(model.validate(body)).toBeDefined());
});

test('GET /vuln declares exactly the query parameters the function takes (a new filter such as overdue= on both sides)', () => {
  const get = openapi.paths['/vuln']?.get as { parameters: { name: string; in: string }[] };
  expect(get.parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name)).toEqual(
    FINDINGS_QUERY_PARAMETERS,
  );
  expect(FINDINGS_QUERY_PARAMETERS).toContain('overdue');
});
