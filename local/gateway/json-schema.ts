/**
 * JSON Schema draft 4 validation for API Gateway request models (the request validator's
 * `validateRequestBody`), with Ajv's draft-04 build. Strict mode refuses a model with a keyword it
 * does not know when the gateway starts, so a model change can never be silently half-checked.
 */
import Ajv from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';

export type JsonSchema = Record<string, unknown>;

// Draft 4 allows a list of types (`type: [string, number]`); Ajv's strict mode asks for it to be said.
const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, unicodeRegExp: true });

export class SchemaValidator {
  private readonly check: ValidateFunction;

  constructor(schema: JsonSchema) {
    this.check = ajv.compile(schema);
  }

  /** undefined when the value conforms, else a short description of the first violation. */
  validate(value: unknown): string | undefined {
    if (this.check(value)) return undefined;
    const error = this.check.errors?.[0];
    return error ? `${error.instancePath || '/'} ${error.message ?? 'is invalid'}` : 'is invalid';
  }
}
