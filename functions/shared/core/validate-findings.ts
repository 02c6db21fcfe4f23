import type { z } from 'zod';
import { batchSchema, findingSchema, type Finding } from './finding-schema';
import { ValidationError, type FieldIssue } from './errors';

/** Keeps the 400 body (and the Lambda error it travels in) well under Step Functions' 32 KiB cause limit. */
const MAX_REPORTED_ISSUES = 100;

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ValidationError([{ index: null, path: '', message: 'body must be valid JSON' }]);
  }
}

/**
 * Paths can carry field names the client chose: they are reduced to a safe alphabet and length
 * before they are echoed back or logged, and messages never carry quotes or backslashes.
 */
const safePath = (segments: PropertyKey[]) => segments.map(String).join('.').replace(/[^A-Za-z0-9_.-]/g, '?').slice(0, 64);
const safeMessage = (message: string) => message.replace(/["\\]/g, "'").slice(0, 200);

function toIssues(error: z.ZodError, batch: boolean): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = [...issue.path];
    let index: number | null = batch ? null : 0;
    if (batch && path[0] === 'findings' && typeof path[1] === 'number') {
      index = path[1];
      path.splice(0, 2);
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ index, path: safePath([...path, key]), message: 'is not an allowed field' });
    } else {
      issues.push({ index, path: safePath(path), message: safeMessage(issue.message) });
    }
  }
  return issues.slice(0, MAX_REPORTED_ISSUES);
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
