import {
  effectiveWorkflow,
  MAX_TRIAGE_UPDATES,
  parseTriageRequest,
  presentTriage,
  workflowOnReopen,
} from '../../functions/shared/core/triage';
import { METHODS } from '../../functions/shared/core/authz-policy';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const DAY_MS = 24 * 60 * 60 * 1000;
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY_MS).toISOString();

const parse = (body: unknown) => {
  const result = parseTriageRequest(body, NOW);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.request;
};
const issues = (body: unknown) => {
  const result = parseTriageRequest(body, NOW);
  if (result.ok) throw new Error('expected issues');
  return result.issues;
};

describe('parseTriageRequest', () => {
  it('reads each update, an acceptance with its expiry made canonical UTC', () => {
    const request = parse({
      org: 'org1',
      updates: [
        { vulnId: 'a', workflow: 'ACKNOWLEDGED', note: ' looking ', expectedVersion: 3 },
        { vulnId: 'b', workflow: 'RISK_ACCEPTED', justification: 'lab', expiresAt: '2027-01-01T01:00:00+01:00' },
        { vulnId: 'c', workflow: 'NEW', note: '' },
      ],
    });
    expect(request).toEqual({
      org: 'org1',
      invalid: [],
      updates: [
        {
          index: 0,
          update: {
            vulnId: 'a',
            workflow: 'ACKNOWLEDGED',
            note: 'looking',
            justification: undefined,
            acceptedUntil: undefined,
            expectedVersion: 3,
          },
        },
        {
          index: 1,
          update: {
            vulnId: 'b',
            workflow: 'RISK_ACCEPTED',
            note: undefined,
            justification: 'lab',
            acceptedUntil: '2027-01-01T00:00:00.000Z',
            expectedVersion: undefined,
          },
        },
        {
          index: 2,
          update: {
            vulnId: 'c',
            workflow: 'NEW',
            note: '',
            justification: undefined,
            acceptedUntil: undefined,
            expectedVersion: undefined,
          },
        },
      ],
    });
  });

  it('refuses each bad item on its own (InvalidInput), naming only fields of ours, and keeps the good ones', () => {
    const request = parse({
      org: 'org1',
      updates: [
        { vulnId: 'ok', workflow: 'FALSE_POSITIVE' },
        { vulnId: 'x', workflow: 'RESOLVED' },
        { vulnId: 'x', workflow: 'RISK_ACCEPTED', expiresAt: inDays(10) },
        { vulnId: 'x', workflow: 'RISK_ACCEPTED', justification: 'j' },
        { vulnId: 'x', workflow: 'RISK_ACCEPTED', justification: 'j', expiresAt: inDays(-1) },
        { vulnId: 'x', workflow: 'RISK_ACCEPTED', justification: 'j', expiresAt: inDays(367) },
        { vulnId: 'x', workflow: 'ACKNOWLEDGED', justification: 'j' },
        { vulnId: 'x', workflow: 'NEW', '<script>': 1 },
        { vulnId: 'bad id!', workflow: 'NEW' },
        'not an object',
        { vulnId: 'ok', workflow: 'NEW' },
        { vulnId: 'x', workflow: 'NEW', expectedVersion: 1.5 },
      ],
    });
    expect(request.updates.map((entry) => entry.index)).toEqual([0]);
    expect(request.invalid.map(({ index, item }) => [index, item.vulnId, item.code, item.message])).toEqual([
      [1, 'x', 'InvalidInput', expect.stringMatching(/^workflow must be one of NEW, ACKNOWLEDGED/)],
      [2, 'x', 'InvalidInput', 'justification is required for RISK_ACCEPTED'],
      [3, 'x', 'InvalidInput', 'expiresAt is required for RISK_ACCEPTED'],
      [4, 'x', 'InvalidInput', 'expiresAt must be in the future'],
      [5, 'x', 'InvalidInput', 'expiresAt must be at most 366 days ahead'],
      [6, 'x', 'InvalidInput', 'justification and expiresAt are for RISK_ACCEPTED only'],
      [7, 'x', 'InvalidInput', expect.stringMatching(/^unknown field \(allowed: vulnId, workflow/)],
      [8, null, 'InvalidInput', expect.stringMatching(/^vulnId /)],
      [9, null, 'InvalidInput', 'must be an object'],
      [10, 'ok', 'InvalidInput', 'vulnId is repeated in the request'],
      [11, 'x', 'InvalidInput', 'expectedVersion must be an integer'],
    ]);
    expect(JSON.stringify(request.invalid)).not.toContain('<script>');
  });

  it('accepts an expiry up to 366 days ahead and no further', () => {
    expect(
      parse({
        org: 'o',
        updates: [{ vulnId: 'a', workflow: 'RISK_ACCEPTED', justification: 'j', expiresAt: inDays(366) }],
      }).updates,
    ).toHaveLength(1);
  });

  it('refuses a bad envelope as a whole, naming org or updates', () => {
    const one = { vulnId: 'a', workflow: 'NEW' };
    expect(issues({ updates: [one] })).toEqual([{ index: null, path: 'org', message: 'is required' }]);
    expect(issues({ org: 'org1' })).toEqual([{ index: null, path: 'updates', message: 'is required' }]);
    expect(issues({ org: 'org1', updates: [] })).toEqual([
      { index: null, path: 'updates', message: 'must hold 1 to 100 updates' },
    ]);
    expect(issues({ org: 'org1', updates: Array.from({ length: MAX_TRIAGE_UPDATES + 1 }, () => one) })).toEqual([
      { index: null, path: 'updates', message: 'must hold 1 to 100 updates' },
    ]);
    expect(issues({ org: 'org1', updates: [one], extra: 1 })).toEqual([
      { index: null, path: '', message: 'unknown field (allowed: org, updates)' },
    ]);
    expect(issues([one])).toEqual([{ index: null, path: '', message: 'must be an object with org and updates' }]);
  });
});

describe('the workflow a read shows', () => {
  it('is NEW when none is stored, and NEW from the instant an acceptance expires', () => {
    expect(effectiveWorkflow({}, NOW)).toBe('NEW');
    expect(effectiveWorkflow({ Workflow: 'FALSE_POSITIVE' }, NOW)).toBe('FALSE_POSITIVE');
    expect(effectiveWorkflow({ Workflow: 'RISK_ACCEPTED', AcceptedUntil: inDays(1) }, NOW)).toBe('RISK_ACCEPTED');
    expect(effectiveWorkflow({ Workflow: 'RISK_ACCEPTED', AcceptedUntil: NOW.toISOString() }, NOW)).toBe('NEW');
    expect(effectiveWorkflow({ Workflow: 'RISK_ACCEPTED', AcceptedUntil: inDays(-1) }, NOW)).toBe('NEW');
  });

  it('carries the Version, 0 before the first versioned write', () => {
    expect(presentTriage({ Workflow: 'ACKNOWLEDGED' }, NOW)).toEqual({ Workflow: 'ACKNOWLEDGED', Version: 0 });
    expect(presentTriage({ Version: 4 }, NOW)).toEqual({ Workflow: 'NEW', Version: 4 });
  });
});

test('a FIXED finding that comes back: ACKNOWLEDGED goes back to NEW, the other states stay', () => {
  expect(workflowOnReopen('ACKNOWLEDGED')).toBe('NEW');
  expect(workflowOnReopen('FALSE_POSITIVE')).toBeUndefined();
  expect(workflowOnReopen('RISK_ACCEPTED')).toBeUndefined();
  expect(workflowOnReopen(undefined)).toBeUndefined();
});

test('TRIAGE is a method of its own: a grant names it next to GET and POST', () => {
  expect(METHODS).toEqual(['GET', 'POST', 'TRIAGE']);
});
