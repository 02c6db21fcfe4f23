import type { z } from 'zod';
import { batchSchema, findingSchema, type Finding } from './finding-schema';
import { ValidationError, type FieldIssue } from './errors';

const MAX_REPORTED_ISSUES = 200;

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ValidationError([{ index: null, path: '', message: 'body must be valid JSON' }]);
  }
}

function toIssues(error: z.ZodError, batch: boolean): FieldIssue[] {
  return error.issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => {
    const path = [...issue.path];
    let index: number | null = batch ? null : 0;
    if (batch && path[0] === 'findings' && typeof path[1] === 'number') {
      index = path[1];
      path.splice(0, 2);
    }
    return { index, path: path.map(String).join('.'), message: issue.message };
  });
}

/**
 * Validates a POST body (one finding or `{findings:[...]}`) and returns the findings as a list.
 * Throws ValidationError listing every invalid field, with the finding's index and the field path.
 */
export function validatePostBody(body: unknown): Finding[] {
  const parsed = parseBody(body);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError([{ index: null, path: '', message: 'body must be a JSON object' }]);
  }
  const batch = Object.prototype.hasOwnProperty.call(parsed, 'findings');
  const result = batch ? batchSchema.safeParse(parsed) : findingSchema.safeParse(parsed);
  if (!result.success) throw new ValidationError(toIssues(result.error, batch));
  return 'findings' in result.data ? result.data.findings : [result.data];
}
