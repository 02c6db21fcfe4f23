import { ValidationError } from '../../functions/shared/core/errors';
import { validatePostBody } from '../../functions/shared/core/validate-findings';
import { REFERENCE_FINDING, findingBatch } from '../support/findings';

/** The issues of the ValidationError `validatePostBody` throws for `body`. */
function issuesOf(body: unknown) {
  try {
    validatePostBody(body);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const SAFE_ID_MESSAGE = 'must use only letters, digits and . _ : @ - (starting with a letter or digit)';

describe('validatePostBody', () => {
  it('returns the reference finding as a list of one, from an object or from JSON text', () => {
    expect(validatePostBody(REFERENCE_FINDING)).toEqual([REFERENCE_FINDING]);
    expect(validatePostBody(JSON.stringify(REFERENCE_FINDING))).toEqual([REFERENCE_FINDING]);
  });

  it('returns every finding of a batch in order', () => {
    const findings = findingBatch(3);
    expect(validatePostBody({ findings })).toEqual(findings);
  });

  it('rejects an unknown field at index 0, naming it in the path', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, Extra: 1, Other: 2 })).toEqual([
      { index: 0, path: 'Extra', message: 'is not an allowed field' },
      { index: 0, path: 'Other', message: 'is not an allowed field' },
    ]);
  });

  it('does not echo a hostile field name or quotes back', () => {
    const issues = issuesOf({ ...REFERENCE_FINDING, '<script>"x"': 1, ['k'.repeat(100)]: 2 });
    expect(issues).toEqual([
      { index: 0, path: '?script??x?', message: 'is not an allowed field' },
      { index: 0, path: 'k'.repeat(64), message: 'is not an allowed field' },
    ]);
  });

  it('rejects a missing field with its path', () => {
    const withoutOrg: Record<string, unknown> = { ...REFERENCE_FINDING };
    delete withoutOrg.Org;
    expect(issuesOf(withoutOrg)).toEqual([{ index: 0, path: 'Org', message: 'is required' }]);
  });

  it('rejects an empty string', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, AssetName: '' })).toContainEqual({ index: 0, path: 'AssetName', message: 'must not be empty' });
  });

  it('rejects characters outside the safe set in Org and VulnID', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, Org: 'org 1', VulnID: '../etc' })).toEqual([
      { index: 0, path: 'VulnID', message: SAFE_ID_MESSAGE },
      { index: 0, path: 'Org', message: SAFE_ID_MESSAGE },
    ]);
  });

  it('rejects 02-30 as a date', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, DueDate: '02-30-2022' })).toEqual([{ index: 0, path: 'DueDate', message: 'must be a real calendar date' }]);
  });

  it('rejects a non-integer PluginId', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, PluginId: 23234.5 })).toEqual([{ index: 0, path: 'PluginId', message: 'must be an integer' }]);
  });

  it('rejects 0 and 101 findings as a request-level issue', () => {
    expect(issuesOf({ findings: [] })).toEqual([{ index: null, path: 'findings', message: 'must hold at least one finding' }]);
    expect(issuesOf({ findings: findingBatch(101) })).toEqual([{ index: null, path: 'findings', message: 'must hold at most 100 findings' }]);
  });

  it('names the index of the bad finding in a batch and lists every issue', () => {
    const findings = [REFERENCE_FINDING, REFERENCE_FINDING, { ...REFERENCE_FINDING, Org: 'bad org', PluginId: 1.5 }];
    expect(issuesOf({ findings })).toEqual([
      { index: 2, path: 'Org', message: SAFE_ID_MESSAGE },
      { index: 2, path: 'PluginId', message: 'must be an integer' },
    ]);
  });

  it('rejects an unknown key beside findings', () => {
    expect(issuesOf({ findings: [REFERENCE_FINDING], dryRun: true })).toEqual([{ index: null, path: 'dryRun', message: 'is not an allowed field' }]);
  });

  it('names the finding of an unknown field in a batch', () => {
    expect(issuesOf({ findings: [REFERENCE_FINDING, { ...REFERENCE_FINDING, Extra: 1 }] })).toEqual([{ index: 1, path: 'Extra', message: 'is not an allowed field' }]);
  });

  it.each([
    ['invalid JSON text', '{"VulnID":', 'body must be valid JSON'],
    ['an array', [REFERENCE_FINDING], 'body must be a JSON object'],
    ['null', null, 'body must be a JSON object'],
    ['a number', 42, 'body must be a JSON object'],
  ])('rejects %s as a whole', (_label, body, message) => {
    expect(issuesOf(body)).toEqual([{ index: null, path: '', message }]);
  });

  it('puts the issues, and no request id yet, in the message', () => {
    try {
      validatePostBody({ findings: [] });
      throw new Error('expected a ValidationError');
    } catch (error) {
      expect(JSON.parse((error as Error).message)).toEqual({
        message: 'Invalid request',
        errors: [{ index: null, path: 'findings', message: 'must hold at least one finding' }],
      });
    }
  });
});
