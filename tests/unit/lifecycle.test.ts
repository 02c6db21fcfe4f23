/** The lifecycle rules (functions/shared/core/lifecycle.ts): stale by scan time, unchanged, reopen, and what a run closes. */
import {
  decideWrite,
  sameDetail,
  shouldClose,
  statusOf,
  type RunScope,
  type StoredFinding,
} from '../../functions/shared/core/lifecycle';
import { REFERENCE_NORMALIZED } from '../support/findings';

const MONDAY = '2026-03-02T09:00:00.000Z';
const TUESDAY = '2026-03-03T09:00:00.000Z';
const WEDNESDAY = '2026-03-04T09:00:00.000Z';

const stored = (overrides: Partial<StoredFinding> = {}): StoredFinding => ({
  ...REFERENCE_NORMALIZED,
  Scanner: 'nessus',
  FirstSeen: MONDAY,
  LastSeen: TUESDAY,
  ...overrides,
});

describe('decideWrite', () => {
  it('creates what is not stored', () => {
    expect(decideWrite(undefined, REFERENCE_NORMALIZED, { scannedAt: MONDAY })).toEqual({
      outcome: 'created',
      reopen: false,
      write: true,
    });
  });

  it('counts a report older than the stored LastSeen as stale, and writes nothing', () => {
    expect(decideWrite(stored(), REFERENCE_NORMALIZED, { scannedAt: MONDAY })).toEqual({
      outcome: 'stale',
      reopen: false,
      write: false,
    });
  });

  it('lets a newer report update, and an equal-time report with the same detail is unchanged', () => {
    expect(
      decideWrite(stored(), { ...REFERENCE_NORMALIZED, Scanner: 'nessus' }, { scannedAt: WEDNESDAY }),
    ).toMatchObject({ outcome: 'updated', reopen: false });
    expect(decideWrite(stored(), { ...REFERENCE_NORMALIZED, Scanner: 'nessus' }, { scannedAt: TUESDAY })).toEqual({
      outcome: 'unchanged',
      reopen: false,
      write: false,
    });
    expect(
      decideWrite(
        stored(),
        { ...REFERENCE_NORMALIZED, Scanner: 'nessus', PluginName: 'renamed' },
        { scannedAt: TUESDAY },
      ),
    ).toMatchObject({ outcome: 'updated', write: true });
  });

  it('compares instants, not spellings of them', () => {
    expect(
      decideWrite(stored(), { ...REFERENCE_NORMALIZED, Scanner: 'nessus' }, { scannedAt: '2026-03-03T10:00:00+01:00' })
        .outcome,
    ).toBe('unchanged');
  });

  it('attributes an unchanged finding to the run that saw it (a write of LastRunId only)', () => {
    expect(
      decideWrite(
        stored({ LastRunId: 'run-a' }),
        { ...REFERENCE_NORMALIZED, Scanner: 'nessus' },
        { scannedAt: TUESDAY, runId: 'run-b' },
      ),
    ).toEqual({ outcome: 'unchanged', reopen: false, write: true });
    expect(
      decideWrite(
        stored({ LastRunId: 'run-b' }),
        { ...REFERENCE_NORMALIZED, Scanner: 'nessus' },
        { scannedAt: TUESDAY, runId: 'run-b' },
      ).write,
    ).toBe(false);
  });

  it('reopens a FIXED finding seen again, at the fixing scan time or later', () => {
    const fixed = stored({ LastSeen: MONDAY, Status: 'FIXED', FixedAt: TUESDAY });
    expect(decideWrite(fixed, REFERENCE_NORMALIZED, { scannedAt: WEDNESDAY })).toEqual({
      outcome: 'updated',
      reopen: true,
      write: true,
    });
    expect(decideWrite(fixed, REFERENCE_NORMALIZED, { scannedAt: TUESDAY })).toMatchObject({ reopen: true });
  });

  it('never lets an older scan reopen what a newer scan fixed', () => {
    const fixed = stored({ LastSeen: MONDAY, Status: 'FIXED', FixedAt: WEDNESDAY });
    expect(decideWrite(fixed, REFERENCE_NORMALIZED, { scannedAt: TUESDAY })).toEqual({
      outcome: 'stale',
      reopen: false,
      write: false,
    });
  });

  it('counts a finding stored before scan runs (no Status) as OPEN', () => {
    expect(statusOf({})).toBe('OPEN');
    expect(decideWrite(stored(), REFERENCE_NORMALIZED, { scannedAt: WEDNESDAY }).reopen).toBe(false);
  });
});

describe('sameDetail', () => {
  it('sees a removed optional field as a change', () => {
    expect(sameDetail(stored({ Port: 443 }), { ...REFERENCE_NORMALIZED, Scanner: 'nessus' })).toBe(false);
    expect(sameDetail(stored({ Port: 443 }), { ...REFERENCE_NORMALIZED, Scanner: 'nessus', Port: 443 })).toBe(true);
  });

  it('compares lists by value', () => {
    expect(
      sameDetail(stored({ Cves: ['CVE-2021-44228'] }), {
        ...REFERENCE_NORMALIZED,
        Scanner: 'nessus',
        Cves: ['CVE-2021-44228'],
      }),
    ).toBe(true);
  });
});

describe('shouldClose', () => {
  const scope: RunScope = {
    runId: 'run-b',
    org: 'org1',
    scanner: 'nessus',
    scannedAt: WEDNESDAY,
    assets: new Set([REFERENCE_NORMALIZED.AssetName]),
  };

  it("closes an OPEN finding of the run's org, scanner and assets that the run did not see", () => {
    expect(shouldClose(stored(), scope)).toBe(true);
    expect(shouldClose(stored({ Status: 'OPEN' }), scope)).toBe(true);
  });

  it('never closes what the run saw, or what a newer scan saw', () => {
    expect(shouldClose(stored({ LastSeen: WEDNESDAY }), scope)).toBe(false);
    expect(shouldClose(stored({ LastSeen: '2026-03-05T09:00:00.000Z' }), scope)).toBe(false);
  });

  it("never closes an asset the run did not cover, another scanner's finding, one without a scanner, or another org's", () => {
    expect(shouldClose(stored({ AssetName: 'untouched.example.com' }), scope)).toBe(false);
    expect(shouldClose(stored({ Scanner: 'qualys' }), scope)).toBe(false);
    const withoutScanner: StoredFinding = { ...stored() };
    delete withoutScanner.Scanner;
    expect(shouldClose(withoutScanner, scope)).toBe(false);
    expect(shouldClose(stored({ Org: 'org2' }), scope)).toBe(false);
  });

  it('leaves a FIXED finding alone (closing twice is harmless)', () => {
    expect(shouldClose(stored({ Status: 'FIXED', FixedAt: TUESDAY }), scope)).toBe(false);
  });
});
