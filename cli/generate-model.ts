/**
 * Writes the API Gateway request model (JSON Schema draft 4) generated from the zod finding schema
 * into api/openapi.yaml, so the gateway validator and the Validate step never disagree.
 * `npm run generate:model`; tests/unit/openapi-model.test.ts fails when they drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { postBodyJsonSchema } from '../functions/shared/core/finding-schema';

export const OPENAPI_PATH = resolve(__dirname, '..', 'api', 'openapi.yaml');

export function withGeneratedModel(openapiText: string): string {
  const document = parseDocument(openapiText);
  document.setIn(['components', 'schemas', 'PostFindingsRequest'], document.createNode(postBodyJsonSchema()));
  return document.toString({ lineWidth: 0 });
}

if (require.main === module) {
  writeFileSync(OPENAPI_PATH, withGeneratedModel(readFileSync(OPENAPI_PATH, 'utf8')));
  console.log(`wrote the request model into ${OPENAPI_PATH}`);
}
