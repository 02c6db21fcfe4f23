import {
  ConfigurationError,
  ForbiddenError,
  PayloadTooLargeError,
  toHttpError,
  TransientError,
  ValidationError,
} from '../../functions/shared/core/errors';

const ISSUES = [{ index: 0, path: 'Org', message: 'is required' }];

describe('typed errors', () => {
  it('carry the names the state machine matches', () => {
    expect(new ValidationError(ISSUES).name).toBe('ValidationError');
    expect(new ForbiddenError('no-grant').name).toBe('ForbiddenError');
    expect(new PayloadTooLargeError().name).toBe('PayloadTooLargeError');
    expect(new TransientError().name).toBe('TransientError');
    expect(new ConfigurationError('x').name).toBe('ConfigurationError');
  });

  it('make the ValidationError message the 400 body, with the request id when known', () => {
    expect(JSON.parse(new ValidationError(ISSUES, 'req-1').message)).toEqual({ message: 'Invalid request', errors: ISSUES, requestId: 'req-1' });
    expect(JSON.parse(new ValidationError(ISSUES).message)).toEqual({ message: 'Invalid request', errors: ISSUES });
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

describe('toHttpError', () => {
  it('maps ValidationError to 400 with the issues and this request id', () => {
    expect(toHttpError(new ValidationError(ISSUES, 'stale-id'), 'req-1')).toEqual({
      statusCode: 400,
      body: { message: 'Invalid request', errors: ISSUES, requestId: 'req-1' },
    });
  });

  it('maps ForbiddenError to 403 without the reason', () => {
    expect(toHttpError(new ForbiddenError('org-not-granted'), 'req-1')).toEqual({ statusCode: 403, body: { message: 'Forbidden' } });
  });

  it('maps PayloadTooLargeError to 413', () => {
    expect(toHttpError(new PayloadTooLargeError(), 'req-1')).toEqual({ statusCode: 413, body: { message: 'Request body too large', requestId: 'req-1' } });
  });

  it('maps TransientError to 503', () => {
    expect(toHttpError(new TransientError('table throttled'), 'req-1')).toEqual({
      statusCode: 503,
      body: { message: 'Service temporarily unavailable', requestId: 'req-1' },
    });
  });

  it.each([
    ['an Error', new Error('connect ECONNREFUSED 10.0.0.1:443 at /var/task/index.js:1')],
    ['a ConfigurationError', new ConfigurationError('Missing required environment variable X')],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
  ])('maps %s to a 500 that tells nothing but the request id', (_label, error) => {
    expect(toHttpError(error, 'req-1')).toEqual({ statusCode: 500, body: { message: 'Internal server error', requestId: 'req-1' } });
  });

  it('goes by class, not by a look-alike name', () => {
    const impostor = Object.assign(new Error('x'), { name: 'ForbiddenError' });
    expect(toHttpError(impostor, 'req-1').statusCode).toBe(500);
  });
});
