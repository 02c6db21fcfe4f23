/**
 * JSON Schema draft 4 validation for API Gateway request models (the request validator's
 * `validateRequestBody`). It implements the draft-4 keywords request models use and refuses a
 * schema with any other keyword when the gateway starts, so a model change can never be silently
 * half-checked locally.
 */
export type JsonSchema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', 'id', 'title', 'description', 'default', 'example', 'examples']);
const KEYWORDS = new Set([
  'type', 'enum', 'properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties',
  'items', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'anyOf', 'allOf', 'oneOf', 'not',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const hasType = (value: unknown, type: string) => {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
};

/** Draft-4 lengths count Unicode code points, not UTF-16 units. */
const codePoints = (value: string) => [...value].length;

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class SchemaValidator {
  private readonly patterns = new Map<string, RegExp>();

  constructor(private readonly root: JsonSchema) {
    this.check(root, '#');
  }

  /** Refuses schemas this validator would not fully enforce (fail fast at start-up). */
  private check(schema: unknown, where: string): void {
    if (typeof schema === 'boolean') return;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Error(`Schema at ${where} is not an object`);
    for (const [keyword, value] of Object.entries(schema)) {
      if (ANNOTATIONS.has(keyword)) continue;
      if (!KEYWORDS.has(keyword)) throw new Error(`Schema keyword ${keyword} at ${where} is not supported by the local request validator`);
      if (keyword === 'pattern') this.regex(String(value));
      if (keyword === 'properties' || keyword === 'patternProperties') {
        for (const [name, child] of Object.entries(value as object)) this.check(child, `${where}/${keyword}/${name}`);
      } else if (['anyOf', 'allOf', 'oneOf'].includes(keyword)) {
        (value as unknown[]).forEach((child, index) => this.check(child, `${where}/${keyword}/${index}`));
      } else if (['not', 'additionalProperties', 'additionalItems'].includes(keyword) && typeof value === 'object') {
        this.check(value, `${where}/${keyword}`);
      } else if (keyword === 'items') {
        if (Array.isArray(value)) value.forEach((child, index) => this.check(child, `${where}/items/${index}`));
        else this.check(value, `${where}/items`);
      }
    }
  }

  private regex(source: string): RegExp {
    let regex = this.patterns.get(source);
    if (!regex) {
      // JSON Schema patterns are ECMA 262 and unanchored; 'u' so \uXXXX and code points behave.
      regex = new RegExp(source, 'u');
      this.patterns.set(source, regex);
    }
    return regex;
  }

  /** The first problem found (JSON pointer and message), or undefined when `value` is valid. */
  validate(value: unknown): string | undefined {
    return this.errorAt(this.root, value, '');
  }

  private errorAt(schema: unknown, value: unknown, pointer: string): string | undefined {
    if (schema === true || schema === undefined) return undefined;
    if (schema === false) return `${pointer || '/'}: not allowed`;
    const s = schema as JsonSchema;
    const fail = (message: string) => `${pointer || '/'}: ${message}`;

    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((type) => hasType(value, type))) return fail(`must be ${types.join(' or ')}`);
    }
    if (Array.isArray(s.enum) && !s.enum.some((option) => deepEqual(option, value))) return fail('must be one of the enumerated values');

    for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
      const branches = s[keyword] as unknown[] | undefined;
      if (!branches) continue;
      const errors = branches.map((branch) => this.errorAt(branch, value, pointer));
      const passing = errors.filter((error) => error === undefined).length;
      if (keyword === 'allOf' && passing !== branches.length) return errors.find((error) => error !== undefined);
      if (keyword === 'anyOf' && passing === 0) return fail(`must match a schema in anyOf (${errors.join('; ')})`);
      if (keyword === 'oneOf' && passing !== 1) return fail('must match exactly one schema in oneOf');
    }
    if (s.not !== undefined && this.errorAt(s.not, value, pointer) === undefined) return fail('must not match the schema in not');

    if (typeof value === 'string') return this.stringError(s, value, fail);
    if (typeof value === 'number') return this.numberError(s, value, fail);
    if (Array.isArray(value)) return this.arrayError(s, value, pointer, fail);
    if (value !== null && typeof value === 'object') return this.objectError(s, value as Record<string, unknown>, pointer, fail);
    return undefined;
  }

  private stringError(s: JsonSchema, value: string, fail: (message: string) => string): string | undefined {
    if (typeof s.minLength === 'number' && codePoints(value) < s.minLength) return fail(`must be at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && codePoints(value) > s.maxLength) return fail(`must be at most ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !this.regex(s.pattern).test(value)) return fail(`must match ${s.pattern}`);
    return undefined;
  }

  private numberError(s: JsonSchema, value: number, fail: (message: string) => string): string | undefined {
    if (typeof s.minimum === 'number' && (s.exclusiveMinimum === true ? value <= s.minimum : value < s.minimum)) return fail(`must be >= ${s.minimum}`);
    if (typeof s.maximum === 'number' && (s.exclusiveMaximum === true ? value >= s.maximum : value > s.maximum)) return fail(`must be <= ${s.maximum}`);
    if (typeof s.multipleOf === 'number' && !Number.isInteger(value / s.multipleOf)) return fail(`must be a multiple of ${s.multipleOf}`);
    return undefined;
  }

  private arrayError(s: JsonSchema, value: unknown[], pointer: string, fail: (message: string) => string): string | undefined {
    if (typeof s.minItems === 'number' && value.length < s.minItems) return fail(`must have at least ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) return fail(`must have at most ${s.maxItems} items`);
    if (s.uniqueItems === true && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) return fail('must have unique items');
    for (const [index, item] of value.entries()) {
      const itemSchema = Array.isArray(s.items) ? (index < s.items.length ? s.items[index] : s.additionalItems) : s.items;
      const error = this.errorAt(itemSchema, item, `${pointer}/${index}`);
      if (error) return error;
    }
    return undefined;
  }

  private objectError(s: JsonSchema, value: Record<string, unknown>, pointer: string, fail: (message: string) => string): string | undefined {
    const keys = Object.keys(value);
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties) return fail(`must have at least ${s.minProperties} properties`);
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) return fail(`must have at most ${s.maxProperties} properties`);
    for (const name of (s.required as string[] | undefined) ?? []) {
      if (!Object.prototype.hasOwnProperty.call(value, name)) return fail(`must have property ${name}`);
    }
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    const patternProperties = Object.entries((s.patternProperties ?? {}) as Record<string, unknown>);
    for (const key of keys) {
      const child = `${pointer}/${key}`;
      let matched = false;
      if (Object.prototype.hasOwnProperty.call(properties, key)) {
        matched = true;
        const error = this.errorAt(properties[key], value[key], child);
        if (error) return error;
      }
      for (const [pattern, childSchema] of patternProperties) {
        if (!this.regex(pattern).test(key)) continue;
        matched = true;
        const error = this.errorAt(childSchema, value[key], child);
        if (error) return error;
      }
      if (!matched && s.additionalProperties !== undefined) {
        const error = s.additionalProperties === false ? `${child}: is not allowed` : this.errorAt(s.additionalProperties, value[key], child);
        if (error) return error;
      }
    }
    return undefined;
  }
}
