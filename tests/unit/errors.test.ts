import {
  ConfigurationError,
  ERROR_ANSWERS,
  ForbiddenError,
  toHttpError,
  TransientError,
  ValidationError,
} from '../../functions/shared/core/errors';

const ISSUES = [{ index: 0, path: 'Org', message: 'is required' }];

describe('typed errors', () => {
  it('carry the names the state machine matches', () => {
    expect(new ValidationError(ISSUES).name).toBe('ValidationError');
    expect(new ForbiddenError('no-grant').name).toBe('ForbiddenError');
    expect(new TransientError().name).toBe('TransientError');
    expect(new ConfigurationError('x').name).toBe('ConfigurationError');
  });

  it('keep the deny reason off the ForbiddenError message', () => {
    const error = new ForbiddenError('certificate-revoked');
    expect(error.message).toBe('Forbidden');
    expect(error.reason).toBe('certificate-revoked');
  });

  it('keep the cause of a TransientError', () => {
    const cause = new Error('throttled');
    expect(new TransientError(undefined, { cause }).cause).toBe(cause);
  });
});

describe('the error table', () => {
  it('has one row per status, each with a message and when it is sent', () => {
    const rows = Object.values(ERROR_ANSWERS);
    expect(new Set(rows.map((row) => row.status)).size).toBe(rows.length);
    for (const row of rows) {
      expect(row.message).toMatch(/^[A-Z][a-z ]+$/);
      expect(row.when.length).toBeGreaterThan(0);
    }
  });

  it('asks for Retry-After exactly where waiting helps: 429 and 503', () => {
    const withRetry = Object.values(ERROR_ANSWERS)
      .filter((row) => 'retryAfterSeconds' in row)
      .map((row) => row.status);
    expect(withRetry.sort()).toEqual([429, 503]);
  });
});

describe('toHttpError', () => {
  it('maps ValidationError to the one 400 shape: message, request id, issues', () => {
    expect(toHttpError(new ValidationError(ISSUES), 'req-1')).toEqual({
      statusCode: 400,
      headers: {},
      body: { message: 'Invalid request', requestId: 'req-1', errors: ISSUES },
    });
  });

  it('maps ForbiddenError to 403 with the request id and without the reason', () => {
    expect(toHttpError(new ForbiddenError('org-not-granted'), 'req-1')).toEqual({
      statusCode: 403,
      headers: {},
      body: { message: 'Forbidden', requestId: 'req-1' },
    });
  });

  it('maps TransientError to 503 with Retry-After', () => {
    expect(toHttpError(new TransientError('table throttled'), 'req-1')).toEqual({
      statusCode: 503,
      headers: { 'Retry-After': '1' },
      body: { message: 'Service temporarily unavailable', requestId: 'req-1' },
    });
  });

  it.each([
    ['an Error', new Error('connect ECONNREFUSED 10.0.0.1:443 at /var/task/index.js:1')],
    ['a ConfigurationError', new ConfigurationError('Missing required environment variable X')],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
  ])('maps %s to a 500 that tells nothing but the request id', (_label, error) => {
    expect(toHttpError(error, 'req-1')).toEqual({
      statusCode: 500,
      headers: {},
      body: { message: 'Internal server error', requestId: 'req-1' },
    });
  });

  it('goes by class, not by a look-alike name', () => {
    const impostor = Object.assign(new Error('x'), { name: 'ForbiddenError' });
    expect(toHttpError(impostor, 'req-1').statusCode).toBe(500);
  });
});
