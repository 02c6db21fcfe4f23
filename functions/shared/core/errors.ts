/**
 * Typed errors of the domain. Their `name` is the contract with the state machine: the ASL's Catch
 * blocks match these names (Lambda reports `errorType` = error.name), and `toHttpError` maps the
 * same names to status codes for the GET function. Messages are client-safe by construction.
 */
export interface FieldIssue {
  /** Index of the finding in the batch, or null when the issue is about the request as a whole. */
  index: number | null;
  path: string;
  message: string;
}

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly issues: FieldIssue[],
    requestId?: string,
  ) {
    // The message is the client's 400 body itself: the state machine's Catch hands it on unchanged.
    super(JSON.stringify(validationBody(issues, requestId)));
  }
}

function validationBody(issues: FieldIssue[], requestId: string | undefined) {
  return { message: 'Invalid request', errors: issues, ...(requestId === undefined ? {} : { requestId }) };
}

export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
  constructor(readonly reason: string) {
    super('Forbidden');
  }
}

export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor() {
    super('Request body too large');
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
  body: Record<string, unknown>;
}

/** The one place that maps error names to status codes and client-safe bodies. */
export function toHttpError(error: unknown, requestId: string): HttpError {
  if (error instanceof ValidationError) {
    return { statusCode: 400, body: validationBody(error.issues, requestId) };
  }
  if (error instanceof ForbiddenError) return { statusCode: 403, body: { message: 'Forbidden' } };
  if (error instanceof PayloadTooLargeError) {
    return { statusCode: 413, body: { message: 'Request body too large', requestId } };
  }
  if (error instanceof TransientError) {
    return { statusCode: 503, body: { message: 'Service temporarily unavailable', requestId } };
  }
  return { statusCode: 500, body: { message: 'Internal server error', requestId } };
}
