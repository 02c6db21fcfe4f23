/** API Gateway's request model is exactly what the zod schema generates: the two validators cannot drift. */
import { readFileSync } from 'node:fs';
import { postBodyJsonSchema } from '../../functions/shared/core/finding-schema';
import { OPENAPI_PATH, withGeneratedModel } from '../../api/request-model';
import { parseCloudFormation } from '../../local/cloudformation/template';

const openapiText = readFileSync(OPENAPI_PATH, 'utf8');
const openapi = parseCloudFormation<{ components: { schemas: Record<string, unknown> }; paths: Record<string, Record<string, Record<string, unknown>>> }>(openapiText);

test('the PostFindingsRequest model equals the schema generated from zod (run npm run generate:model)', () => {
  expect(openapi.components.schemas.PostFindingsRequest).toEqual(postBodyJsonSchema());
  expect(withGeneratedModel(openapiText)).toBe(openapiText);
});

test('POST /vuln validates its body with that model', () => {
  const post = openapi.paths['/vuln']?.post as { 'x-amazon-apigateway-request-validator': string; requestBody: unknown };
  expect(post['x-amazon-apigateway-request-validator']).toBe('body-and-params');
  expect(post.requestBody).toMatchObject({ required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PostFindingsRequest' } } } });
});

test('the model is JSON Schema draft 4, as API Gateway requires', () => {
  const model = postBodyJsonSchema();
  expect(model.$schema).toBeUndefined();
  expect(JSON.stringify(model)).not.toMatch(/"(const|\$defs|prefixItems|unevaluatedProperties)"/);
  expect(model).toMatchObject({ anyOf: [expect.objectContaining({ additionalProperties: false }), expect.objectContaining({ required: ['findings'] })] });
});
