/**
 * The API Gateway request model of POST /vuln (JSON Schema draft 4), written into api/openapi.yaml by
 * `npm run generate:model`; tests/unit/openapi-model.test.ts fails when they drift.
 *
 * The model checks the envelope only: a JSON object, and a `findings` list of 1 to 100 objects when
 * there is one. API Gateway's validator describes a violation by quoting what the client sent
 * (`$context.error.validationErrorString`), so the gateway answers it with a fixed message
 * (FIXED_ISSUES.envelope) and the field rules stay with the Validate step, which runs the zod schema
 * and names each field by our own path.
 */
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { MAX_FINDINGS_PER_REQUEST } from '../functions/shared/core/limits';

export const OPENAPI_PATH = resolve(__dirname, 'openapi.yaml');
export const ENVELOPE_MODEL_NAME = 'PostFindingsEnvelope';

export function envelopeJsonSchema(): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      findings: { type: 'array', minItems: 1, maxItems: MAX_FINDINGS_PER_REQUEST, items: { type: 'object' } },
    },
  };
}

export function withGeneratedModel(openapiText: string): string {
  const document = parseDocument(openapiText);
  document.setIn(['components', 'schemas', ENVELOPE_MODEL_NAME], document.createNode(envelopeJsonSchema()));
  return document.toString({ lineWidth: 0 });
}
