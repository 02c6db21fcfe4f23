/** SLA policies per org (core/sla.ts): the stored layout, the defaults, due times and what overdue=true asks. */
import {
  DEFAULT_SLA_POLICY,
  InvalidSlaPolicyError,
  isOverdue,
  overdueCutoffs,
  slaDueAt,
  slaPolicyFrom,
  slaPolicySchema,
} from '../../functions/shared/core/sla';
import { slaKey } from '../../functions/shared/core/authz-table';

const FIRST_SEEN = '2026-03-02T09:00:00.000Z';

describe('SLA policy', () => {
  it('is stored as SLA#<org>, and an org without one has exactly the defaults', () => {
    expect(slaKey('org1')).toBe('SLA#org1');
    expect(slaPolicyFrom(undefined, 'org1')).toEqual({ CRITICAL: 15, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: null });
    expect(slaPolicyFrom(null, 'org1')).toEqual(DEFAULT_SLA_POLICY);
  });

  it('takes whole days from 1 to 3650, or null for no SLA, for every ranked severity', () => {
    const policy = { CRITICAL: 1, HIGH: 3650, MEDIUM: null, LOW: 180, INFO: null };
    expect(slaPolicyFrom(policy, 'org1')).toEqual(policy);
    for (const days of [0, -1, 3651, 1.5, '7', Number.NaN]) {
      expect(slaPolicySchema.safeParse({ ...policy, CRITICAL: days }).success).toBe(false);
      expect(() => slaPolicyFrom({ ...policy, CRITICAL: days }, 'org1')).toThrow(InvalidSlaPolicyError);
    }
    // Every severity is stored (the tool writes all five), and nothing else: UNKNOWN has no rank and no SLA.
    expect(slaPolicySchema.safeParse({ CRITICAL: 1, HIGH: 2, MEDIUM: 3, LOW: 4 }).success).toBe(false);
    expect(slaPolicySchema.safeParse({ ...policy, UNKNOWN: 5 }).success).toBe(false);
  });
});

describe('due time', () => {
  it("is FirstSeen plus the severity's days, none for INFO by default, UNKNOWN or no FirstSeen", () => {
    expect(slaDueAt({ FirstSeen: FIRST_SEEN, Severity: 'CRITICAL' }, DEFAULT_SLA_POLICY)).toBe(
      '2026-03-17T09:00:00.000Z',
    );
    expect(slaDueAt({ FirstSeen: FIRST_SEEN, Severity: 'LOW' }, DEFAULT_SLA_POLICY)).toBe('2026-08-29T09:00:00.000Z');
    expect(slaDueAt({ FirstSeen: FIRST_SEEN, Severity: 'INFO' }, DEFAULT_SLA_POLICY)).toBeNull();
    expect(slaDueAt({ FirstSeen: FIRST_SEEN, Severity: 'UNKNOWN' }, DEFAULT_SLA_POLICY)).toBeNull();
    expect(slaDueAt({ Severity: 'HIGH' }, DEFAULT_SLA_POLICY)).toBeNull();
  });

  it('follows a changed policy and a changed severity', () => {
    const finding = { FirstSeen: FIRST_SEEN, Severity: 'HIGH' as const };
    expect(slaDueAt(finding, DEFAULT_SLA_POLICY)).toBe('2026-04-01T09:00:00.000Z');
    expect(slaDueAt(finding, { ...DEFAULT_SLA_POLICY, HIGH: 7 })).toBe('2026-03-09T09:00:00.000Z');
    expect(slaDueAt({ ...finding, Severity: 'CRITICAL' }, DEFAULT_SLA_POLICY)).toBe('2026-03-17T09:00:00.000Z');
  });

  it('has passed only after the due instant', () => {
    const finding = { FirstSeen: FIRST_SEEN, Severity: 'CRITICAL' as const };
    expect(isOverdue(finding, DEFAULT_SLA_POLICY, new Date('2026-03-17T09:00:00.000Z'))).toBe(false);
    expect(isOverdue(finding, DEFAULT_SLA_POLICY, new Date('2026-03-17T09:00:00.001Z'))).toBe(true);
    expect(isOverdue({ ...finding, Severity: 'INFO' }, DEFAULT_SLA_POLICY, new Date('2099-01-01'))).toBe(false);
  });
});

describe('overdue cutoffs', () => {
  const now = new Date('2026-06-01T00:00:00.000Z');

  it('give, per severity with an SLA, the FirstSeen before which a finding is overdue', () => {
    expect(overdueCutoffs(DEFAULT_SLA_POLICY, now)).toEqual([
      { severity: 'CRITICAL', firstSeenBefore: '2026-05-17T00:00:00.000Z' },
      { severity: 'HIGH', firstSeenBefore: '2026-05-02T00:00:00.000Z' },
      { severity: 'MEDIUM', firstSeenBefore: '2026-03-03T00:00:00.000Z' },
      { severity: 'LOW', firstSeenBefore: '2025-12-03T00:00:00.000Z' },
    ]);
    expect(overdueCutoffs(DEFAULT_SLA_POLICY, now, ['HIGH', 'INFO'])).toEqual([
      { severity: 'HIGH', firstSeenBefore: '2026-05-02T00:00:00.000Z' },
    ]);
    expect(overdueCutoffs({ CRITICAL: null, HIGH: null, MEDIUM: null, LOW: null, INFO: null }, now)).toEqual([]);
  });

  it('agree with isOverdue on both sides of each cutoff', () => {
    for (const { severity, firstSeenBefore } of overdueCutoffs(DEFAULT_SLA_POLICY, now)) {
      const at = Date.parse(firstSeenBefore);
      const just = (ms: number) => ({ FirstSeen: new Date(at + ms).toISOString(), Severity: severity });
      expect([severity, isOverdue(just(-1), DEFAULT_SLA_POLICY, now)]).toEqual([severity, true]);
      expect([severity, isOverdue(just(0), DEFAULT_SLA_POLICY, now)]).toEqual([severity, false]);
    }
  });
});
