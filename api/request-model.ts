/**
 * The API Gateway request model of POST /vuln (JSON Schema draft 4), written into api/openapi.yaml by
 * `npm run generate:model`; tests/unit/openapi-model.test.ts fails when they drift.
 *
 * The model checks the envelope only: a JSON object, and a `findings` list of 1 to 100 objects when
 * there is one, every field of a finding a plain value (string, number, boolean, null) or a list of
 * them. No finding field nests deeper, and a body nested thousands of levels deep is refused here,
 * before a mapping template has to copy it into the execution input. API Gateway's validator describes a violation by quoting what the client sent
 * (`$context.error.validationErrorString`), so the gateway answers it with a fixed message
 * (FIXED_ISSUES.envelope) and the field rules stay with the Validate step, which runs the zod schema
 * and names each field by our own path.
 */
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { MAX_FINDINGS_PER_REQUEST } from '../functions/shared/core/limits';

export const OPENAPI_PATH = resolve(__dirname, 'openapi.yaml');
export const ENVELOPE_MODEL_NAME = 'PostFindingsEnvelope';

const PLAIN = ['string', 'number', 'boolean', 'null'];
/** A field's value: plain, or a list of plain values (CVE lists). Unknown fields stay the Validate step's to name. */
const field = () => ({ type: [...PLAIN, 'array'], items: { type: [...PLAIN] } });

export function envelopeJsonSchema(): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      findings: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_FINDINGS_PER_REQUEST,
        items: { type: 'object', additionalProperties: field() },
      },
    },
    // Fresh objects each time: the written YAML must hold no anchors or aliases, which CloudFormation refuses.
    additionalProperties: field(),
  };
}

export function withGeneratedModel(openapiText: string): string {
  const document = parseDocument(openapiText);
  document.setIn(['components', 'schemas', ENVELOPE_MODEL_NAME], document.createNode(envelopeJsonSchema()));
  return document.toString({ lineWidth: 0 });
}
