import type * as z from 'zod';
import { batchSchema, findingSchema, type Finding } from './finding-schema';
import type { FieldIssue } from './errors';

/** Keeps the 400 body well under Step Functions' 256 KiB payload limit. */
const MAX_REPORTED_ISSUES = 100;

/** What the Validate step returns: the state machine's Choice routes `valid: false` to the 400 answer. */
export type ValidationResult =
  { valid: true; findings: Finding[]; runId: string | null } | { valid: false; issues: FieldIssue[] };

const invalid = (message: string): ValidationResult => ({ valid: false, issues: [{ index: null, path: '', message }] });

/**
 * A path of our own schema: the keys zod reports are ours (strict objects report a key they do not
 * know as `unrecognized_keys`, handled apart) and array positions are numbers.
 */
const schemaPath = (segments: PropertyKey[]) => segments.map(String).join('.');

function toIssues(error: z.ZodError, batch: boolean): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = [...issue.path];
    let index: number | null = batch ? null : 0;
    if (batch && path[0] === 'findings' && typeof path[1] === 'number') {
      index = path[1];
      path.splice(0, 2);
    }
    // The client's own key names are never echoed: the issue says where, not what.
    if (issue.code === 'unrecognized_keys') issues.push({ index, path: schemaPath(path), message: 'unknown field' });
    else issues.push({ index, path: schemaPath(path), message: issue.message });
  }
  return issues.slice(0, MAX_REPORTED_ISSUES);
}

/**
 * Validates a POST body (one finding or `{findings:[...]}`, as JSON text or parsed) and returns the
 * findings as a list, or every invalid field with the finding's index and the field's path.
 */
export function validatePostBody(body: unknown): ValidationResult {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return invalid('body must be valid JSON');
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return invalid('body must be a JSON object');
  const batch = Object.prototype.hasOwnProperty.call(parsed, 'findings');
  const result = batch ? batchSchema.safeParse(parsed) : findingSchema.safeParse(parsed);
  if (!result.success) return { valid: false, issues: toIssues(result.error, batch) };
  if ('findings' in result.data)
    return { valid: true, findings: result.data.findings, runId: result.data.runId ?? null };
  return { valid: true, findings: [result.data], runId: null };
}
