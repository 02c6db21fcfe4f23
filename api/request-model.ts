/**
 * The API Gateway request model (JSON Schema draft 4) generated from the zod finding schema
 * for api/openapi.yaml, so the gateway validator and the Validate step never disagree.
 * `npm run generate:model` writes it; tests/unit/openapi-model.test.ts fails when they drift.
 */
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { postBodyJsonSchema } from '../functions/shared/core/finding-schema';

export const OPENAPI_PATH = resolve(__dirname, 'openapi.yaml');

export function withGeneratedModel(openapiText: string): string {
  const document = parseDocument(openapiText);
  document.setIn(['components', 'schemas', 'PostFindingsRequest'], document.createNode(postBodyJsonSchema()));
  return document.toString({ lineWidth: 0 });
}
