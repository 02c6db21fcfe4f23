/**
 * Typed errors of the domain and the one table of what a client is told when a request does not
 * succeed. The table is the single source of every client-facing status and message: the ASL's
 * "Answer …" states, the OpenAPI document's gateway responses and integration response templates
 * repeat them where AWS needs them, and tests/template/error-answers.test.ts fails when any of them
 * differs from this table; docs/errors.md is generated from it (`npm run generate:model`).
 */

export interface ErrorAnswer {
  status: number;
  message: string;
  /** Seconds a client should wait before retrying (the `Retry-After` header), where waiting helps. */
  retryAfterSeconds?: number;
  /** When the client gets this answer, for docs/errors.md. */
  when: readonly string[];
}

export const ERROR_ANSWERS = {
  invalidRequest: {
    status: 400,
    message: 'Invalid request',
    when: [
      'the body is not JSON, not an object, or does not hold 1 to 100 findings (the gateway request model)',
      'a finding breaks the finding schema (the Validate step names each field)',
      'a query parameter of GET /vuln is missing, repeated, unknown or invalid (e.g. `overdue` other than true or false: `{"index":null,"path":"overdue","message":"must be true or false"}`), or the nextToken is not valid for the org',
      'a query parameter of GET /vuln/history (org, vulnId, limit, nextToken) or GET /vuln/summary (org) is missing, repeated, unknown or invalid, or the history nextToken is not one of that finding',
      'a POST /vuln/triage body is not JSON, has no org, or does not hold 1 to 100 updates (a bad update alone is answered per item: InvalidInput)',
    ],
  },
  forbidden: {
    status: 403,
    message: 'Forbidden',
    when: [
      'the client certificate is not granted the method on every org of the request, or is revoked (POST /vuln/triage needs TRIAGE: a POST or GET grant never allows it; GET /vuln/history and GET /vuln/summary need GET on the org)',
      'the web ACL or the resource policy refused the request',
    ],
  },
  notFound: {
    status: 404,
    message: 'Not found',
    when: [
      'no route has this path and method: API Gateway answers an unknown path and an unsupported method (the 405 case) alike',
      'a scan run does not exist, belongs to another org, or the caller may not read it (one answer for all three)',
    ],
  },
  conflict: {
    status: 409,
    message: 'Conflict',
    when: ['a batch names a scan run that is closing or closed, or would take the run over its asset limit'],
  },
  payloadTooLarge: {
    status: 413,
    message: 'Request body too large',
    when: [
      'the body, or the execution input it becomes (the body plus the certificate and ids), is over the 256 KiB Step Functions limit',
    ],
  },
  unsupportedMediaType: {
    status: 415,
    message: 'Unsupported media type',
    when: ['a POST body is not application/json'],
  },
  tooManyRequests: {
    status: 429,
    message: 'Too many requests',
    retryAfterSeconds: 1,
    when: [
      'the stage throttle (shared by all clients) is exhausted',
      'Step Functions throttles the start of the execution',
    ],
  },
  internal: {
    status: 500,
    message: 'Internal server error',
    when: [
      'an unexpected failure; the detail is in the logs under the request id',
      'GET /vuln of an org whose stored SLA policy breaks its schema (the log names the org; `npm run authz -- sla set` or `sla reset` replaces it)',
    ],
  },
  badGateway: {
    status: 502,
    message: 'Internal server error',
    when: [
      "the GET function failed, or answered something that is not a Lambda proxy response (API Gateway's own answer)",
    ],
  },
  unavailable: {
    status: 503,
    message: 'Service temporarily unavailable',
    retryAfterSeconds: 1,
    when: ['a dependency (Lambda, DynamoDB, Step Functions) kept failing after the retries'],
  },
  gatewayTimeout: {
    status: 504,
    message: 'Gateway timeout',
    when: ['the request did not finish within the time limit; nothing is left running'],
  },
} as const satisfies Record<string, ErrorAnswer>;

export type ErrorAnswerName = keyof typeof ERROR_ANSWERS;

export interface FieldIssue {
  /** Index of the finding in the batch, or null when the issue is about the request as a whole. */
  index: number | null;
  /** A path of our own schema (`DueDate`, `findings`), never a name the client made up. */
  path: string;
  message: string;
}

/**
 * The issues of 400 answers whose wording is fixed because API Gateway gives them (its request
 * validator cannot name fields without quoting what the client sent).
 */
export const FIXED_ISSUES = {
  /** The request model refused the envelope. */
  envelope: {
    index: null,
    path: '',
    message:
      'must be one finding, or an object whose findings list holds 1 to 100 findings, each field a plain value or a list of plain values',
  },
  /** The request validator found a required query parameter missing (GET /vuln requires org only). */
  missingOrg: { index: null, path: 'org', message: 'is required' },
} as const satisfies Record<string, FieldIssue>;

/** A 400 body: `{ message, requestId, errors }`, the one shape of every 400. */
export function invalidRequestBody(issues: readonly FieldIssue[], requestId: string) {
  return { message: ERROR_ANSWERS.invalidRequest.message, requestId, errors: [...issues] };
}

/** The body of any other refusal: the table's message and the request id. */
export function errorBody(name: ErrorAnswerName, requestId: string) {
  return { message: ERROR_ANSWERS[name].message, requestId };
}

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(readonly issues: FieldIssue[]) {
    super(ERROR_ANSWERS.invalidRequest.message);
  }
}

/** A scan run that does not exist, or that the caller may not know exists: 404 either way. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly reason: string) {
    super(ERROR_ANSWERS.notFound.message);
  }
}

/** The request is valid but the run's state refuses it (a batch for a completed run). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(readonly reason: string) {
    super(ERROR_ANSWERS.conflict.message);
  }
}

export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
  constructor(readonly reason: string) {
    super(ERROR_ANSWERS.forbidden.message);
  }
}

/** A dependency failed in a way that may pass: the state machine retries, then answers 503. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(message = 'A dependency is temporarily unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Configuration missing or invalid at start-up: fail fast, never serve. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export interface HttpError {
  statusCode: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

function answer(name: ErrorAnswerName, requestId: string): HttpError {
  const entry: ErrorAnswer = ERROR_ANSWERS[name];
  const headers: Record<string, string> =
    entry.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(entry.retryAfterSeconds) };
  return { statusCode: entry.status, headers, body: errorBody(name, requestId) };
}

/** The one place that maps errors to status codes and client-safe bodies (the GET function's answers). */
export function toHttpError(error: unknown, requestId: string): HttpError {
  if (error instanceof ValidationError)
    return { statusCode: 400, headers: {}, body: invalidRequestBody(error.issues, requestId) };
  if (error instanceof ForbiddenError) return answer('forbidden', requestId);
  if (error instanceof NotFoundError) return answer('notFound', requestId);
  if (error instanceof ConflictError) return answer('conflict', requestId);
  if (error instanceof TransientError) return answer('unavailable', requestId);
  return answer('internal', requestId);
}
