import { ValidationError } from '../../functions/shared/core/errors';
import { parseFindingsQuery } from '../../functions/shared/core/get-findings-query';

function issuesOf(single: Record<string, string> | null, multi: Record<string, string[]> | null = null) {
  try {
    parseFindingsQuery(single, multi);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseFindingsQuery', () => {
  it('reads org alone with the default page size', () => {
    expect(parseFindingsQuery({ org: 'org1' }, { org: ['org1'] })).toEqual({
      org: 'org1',
      limit: 50,
      nextToken: undefined,
      severity: undefined,
      status: 'OPEN',
      // What there is to fix by default: NEW and ACKNOWLEDGED (no false positive, no unexpired acceptance).
      workflows: ['NEW', 'ACKNOWLEDGED'],
    });
  });

  it('reads every parameter', () => {
    expect(
      parseFindingsQuery(
        {
          org: 'org1',
          limit: '100',
          nextToken: 'abc.def',
          severity: 'HIGH',
          asset: ' Web-1.Example.COM ',
          cve: 'cve-2021-44228',
        },
        null,
      ),
    ).toEqual({
      org: 'org1',
      limit: 100,
      nextToken: 'abc.def',
      severities: ['HIGH'],
      status: 'OPEN',
      asset: 'web-1.example.com',
      cve: 'CVE-2021-44228',
      workflows: ['NEW', 'ACKNOWLEDGED'],
    });
    expect(parseFindingsQuery({ org: 'org1', limit: '1' }, null).limit).toBe(1);
  });

  it('turns minSeverity into every rank at or above it, never UNKNOWN', () => {
    expect(parseFindingsQuery({ org: 'org1', minSeverity: 'HIGH' }, null).severities).toEqual(['CRITICAL', 'HIGH']);
    expect(parseFindingsQuery({ org: 'org1', minSeverity: 'INFO' }, null).severities).toEqual([
      'CRITICAL',
      'HIGH',
      'MEDIUM',
      'LOW',
      'INFO',
    ]);
    expect(issuesOf({ org: 'org1', minSeverity: 'UNKNOWN' })).toEqual([
      { index: null, path: 'minSeverity', message: 'must be one of CRITICAL, HIGH, MEDIUM, LOW, INFO' },
    ]);
  });

  it('refuses severity and minSeverity together, and a malformed cve', () => {
    expect(issuesOf({ org: 'org1', severity: 'HIGH', minSeverity: 'LOW' })).toEqual([
      { index: null, path: 'minSeverity', message: 'give severity or minSeverity, not both' },
    ]);
    expect(issuesOf({ org: 'org1', cve: 'CVE-21-1' })).toEqual([
      { index: null, path: 'cve', message: 'must be a CVE id like CVE-2021-44228' },
    ]);
    expect(issuesOf({ org: 'org1', asset: '  ' })).toEqual([
      { index: null, path: 'asset', message: 'must not be empty' },
    ]);
  });

  it('requires org, also when there is no query string at all', () => {
    expect(issuesOf(null)).toEqual([{ index: null, path: 'org', message: 'is required' }]);
    expect(issuesOf({ limit: '5' })).toEqual([{ index: null, path: 'org', message: 'is required' }]);
  });

  it('refuses an org outside the safe character set', () => {
    expect(issuesOf({ org: 'org1 OR 1=1' })).toEqual([
      {
        index: null,
        path: 'org',
        message: 'must use only letters, digits and . _ : @ - (starting with a letter or digit)',
      },
    ]);
  });

  it.each([
    ['0', 'must be between 1 and 100'],
    ['101', 'must be between 1 and 100'],
    ['abc', 'must be a whole number'],
    ['-1', 'must be a whole number'],
    ['1.5', 'must be a whole number'],
    ['1000', 'must be a whole number'],
  ])('refuses limit=%s', (limit, message) => {
    expect(issuesOf({ org: 'org1', limit })).toEqual([{ index: null, path: 'limit', message }]);
  });

  it('refuses a repeated parameter', () => {
    expect(issuesOf({ org: 'org2' }, { org: ['org1', 'org2'] })).toEqual([
      { index: null, path: 'org', message: 'must be given once' },
    ]);
  });

  it('refuses an unknown parameter without repeating its name, even when repeated', () => {
    const unknown = [
      {
        index: null,
        path: '',
        message:
          'unknown query parameter (allowed: org, limit, nextToken, severity, minSeverity, asset, cve, package, knownExploit, status, workflow, overdue)',
      },
    ];
    expect(issuesOf({ org: 'org1', orgs: 'org2' })).toEqual(unknown);
    expect(issuesOf({ org: 'org1', '<x>': 'b' }, { org: ['org1'], '<x>': ['a', 'b'] })).toEqual(unknown);
  });

  it('refuses a severity that is not one of the six', () => {
    expect(issuesOf({ org: 'org1', severity: 'high' })).toEqual([
      { index: null, path: 'severity', message: 'must be one of CRITICAL, HIGH, MEDIUM, LOW, INFO, UNKNOWN' },
    ]);
  });

  it('refuses an empty or oversized nextToken', () => {
    expect(issuesOf({ org: 'org1', nextToken: '' })).toMatchObject([{ index: null, path: 'nextToken' }]);
    expect(issuesOf({ org: 'org1', nextToken: 'x'.repeat(2049) })).toMatchObject([{ index: null, path: 'nextToken' }]);
  });
});

describe('the status filter', () => {
  it('defaults to OPEN, takes FIXED, and ALL lifts it', () => {
    expect(parseFindingsQuery({ org: 'org1' }, null).status).toBe('OPEN');
    expect(parseFindingsQuery({ org: 'org1', status: 'FIXED' }, null).status).toBe('FIXED');
    expect(parseFindingsQuery({ org: 'org1', status: 'ALL' }, null).status).toBeUndefined();
  });

  it('refuses any other status, naming the parameter', () => {
    expect(() => parseFindingsQuery({ org: 'org1', status: 'open' }, null)).toThrow(
      expect.objectContaining({
        issues: [{ index: null, path: 'status', message: 'must be one of OPEN, FIXED, ALL' }],
      }),
    );
  });
});

describe('the package and known-exploit filters', () => {
  it('passes package= as written (trimmed) and knownExploit= as a boolean', () => {
    expect(parseFindingsQuery({ org: 'org1', package: ' log4j-core ', knownExploit: 'true' }, null)).toMatchObject({
      packageName: 'log4j-core',
      knownExploit: true,
    });
    expect(parseFindingsQuery({ org: 'org1', knownExploit: 'false' }, null).knownExploit).toBe(false);
    expect(parseFindingsQuery({ org: 'org1' }, null)).toMatchObject({
      packageName: undefined,
      knownExploit: undefined,
    });
  });

  it('refuses a bad value with a 400 naming the parameter', () => {
    expect(issuesOf({ org: 'org1', knownExploit: 'yes' })).toEqual([
      { index: null, path: 'knownExploit', message: 'must be true or false' },
    ]);
    expect(issuesOf({ org: 'org1', package: '' })).toEqual([
      { index: null, path: 'package', message: 'must not be empty' },
    ]);
    expect(issuesOf({ org: 'org1', package: 'p'.repeat(257) })).toEqual([
      { index: null, path: 'package', message: 'must be at most 256 characters' },
    ]);
  });
});
