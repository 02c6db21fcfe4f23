import { validatePostBody } from '../../functions/shared/core/validate-findings';
import { REFERENCE_FINDING, findingBatch } from '../support/findings';

/** The issues `validatePostBody` finds in `body`. */
function issuesOf(body: unknown) {
  const result = validatePostBody(body);
  if (result.valid) throw new Error('expected the body to be invalid');
  return result.issues;
}

const SAFE_ID_MESSAGE = 'must use only letters, digits and . _ : @ - (starting with a letter or digit)';

describe('validatePostBody', () => {
  it('returns the reference finding as a list of one, from an object or from JSON text', () => {
    expect(validatePostBody(REFERENCE_FINDING)).toEqual({ valid: true, findings: [REFERENCE_FINDING], runId: null });
    expect(validatePostBody(JSON.stringify(REFERENCE_FINDING))).toEqual({
      valid: true,
      findings: [REFERENCE_FINDING],
      runId: null,
    });
  });

  it('returns every finding of a batch in order', () => {
    const findings = findingBatch(3);
    expect(validatePostBody({ findings })).toEqual({ valid: true, findings, runId: null });
  });

  it('rejects unknown fields as "unknown field" at the finding\'s index, without their names', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, Extra: 1, Other: 2 })).toEqual([
      { index: 0, path: '', message: 'unknown field' },
    ]);
  });

  it('never echoes what the client sent: names, values, quotes', () => {
    const hostile = '<script>"x"\\\u0000';
    const issues = issuesOf({ ...REFERENCE_FINDING, [hostile]: hostile, Org: hostile, ['k'.repeat(100)]: 2 });
    expect(JSON.stringify(issues)).not.toMatch(/script|kkkk/);
    expect(issues).toEqual([
      { index: 0, path: 'Org', message: SAFE_ID_MESSAGE },
      { index: 0, path: '', message: 'unknown field' },
    ]);
  });

  it('rejects a missing field with its path', () => {
    const withoutOrg: Record<string, unknown> = { ...REFERENCE_FINDING };
    delete withoutOrg.Org;
    expect(issuesOf(withoutOrg)).toEqual([{ index: 0, path: 'Org', message: 'is required' }]);
  });

  it('rejects an empty string', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, AssetName: '' })).toContainEqual({
      index: 0,
      path: 'AssetName',
      message: 'must not be empty',
    });
  });

  it('rejects characters outside the safe set in Org and VulnID', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, Org: 'org 1', VulnID: '../etc' })).toEqual([
      { index: 0, path: 'VulnID', message: SAFE_ID_MESSAGE },
      { index: 0, path: 'Org', message: SAFE_ID_MESSAGE },
    ]);
  });

  it('rejects 02-30 as a date', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, DueDate: '02-30-2022' })).toEqual([
      { index: 0, path: 'DueDate', message: 'must be a real calendar date' },
    ]);
  });

  it('rejects a non-integer PluginId', () => {
    expect(issuesOf({ ...REFERENCE_FINDING, PluginId: 23234.5 })).toEqual([
      { index: 0, path: 'PluginId', message: 'must be an integer' },
    ]);
  });

  it('rejects 0 and 101 findings as a request-level issue', () => {
    expect(issuesOf({ findings: [] })).toEqual([
      { index: null, path: 'findings', message: 'must hold at least one finding' },
    ]);
    expect(issuesOf({ findings: findingBatch(101) })).toEqual([
      { index: null, path: 'findings', message: 'must hold at most 100 findings' },
    ]);
  });

  it('names the index of the bad finding in a batch and lists every issue', () => {
    const findings = [REFERENCE_FINDING, REFERENCE_FINDING, { ...REFERENCE_FINDING, Org: 'bad org', PluginId: 1.5 }];
    expect(issuesOf({ findings })).toEqual([
      { index: 2, path: 'Org', message: SAFE_ID_MESSAGE },
      { index: 2, path: 'PluginId', message: 'must be an integer' },
    ]);
  });

  it('rejects an unknown key beside findings', () => {
    expect(issuesOf({ findings: [REFERENCE_FINDING], dryRun: true })).toEqual([
      { index: null, path: '', message: 'unknown field' },
    ]);
  });

  it('names the finding of an unknown field in a batch', () => {
    expect(issuesOf({ findings: [REFERENCE_FINDING, { ...REFERENCE_FINDING, Extra: 1 }] })).toEqual([
      { index: 1, path: '', message: 'unknown field' },
    ]);
  });

  it.each([
    ['invalid JSON text', '{"VulnID":', 'body must be valid JSON'],
    ['an array', [REFERENCE_FINDING], 'body must be a JSON object'],
    ['null', null, 'body must be a JSON object'],
    ['a number', 42, 'body must be a JSON object'],
  ])('rejects %s as a whole', (_label, body, message) => {
    expect(issuesOf(body)).toEqual([{ index: null, path: '', message }]);
  });
});
