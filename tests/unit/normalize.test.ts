import { lastPerKey, normalizeFinding, normalizeFindings } from '../../functions/shared/core/normalize';
import { REFERENCE_FINDING, REFERENCE_NORMALIZED } from '../support/findings';

describe('normalizeFinding', () => {
  it('turns the reference finding into its normalized form', () => {
    expect(normalizeFinding(REFERENCE_FINDING)).toEqual(REFERENCE_NORMALIZED);
  });

  it('writes the due date as ISO, lower-cases and trims the asset name, derives the severity', () => {
    expect(
      normalizeFinding({
        ...REFERENCE_FINDING,
        DueDate: '02-29-2024',
        AssetName: '  LAX-PSG-G.Internal.ORG.com ',
        Priority: 'P1',
      }),
    ).toEqual({
      ...REFERENCE_FINDING,
      DueDate: '2024-02-29',
      AssetName: 'lax-psg-g.internal.org.com',
      Priority: 'P1',
      Severity: 'CRITICAL',
    });
  });

  it('keeps the scanner priority as sent', () => {
    expect(normalizeFinding({ ...REFERENCE_FINDING, Priority: ' High ' })).toMatchObject({
      Priority: ' High ',
      Severity: 'HIGH',
    });
  });

  it('keeps each CVE once, in the order sent, and lets the CVSS band decide an unknown priority', () => {
    expect(
      normalizeFinding({ ...REFERENCE_FINDING, Cves: ['CVE-2022-2', 'CVE-2021-1', 'CVE-2022-2'], CvssScore: 7.5 }),
    ).toMatchObject({
      Cves: ['CVE-2022-2', 'CVE-2021-1'],
      Severity: 'HIGH',
    });
  });

  it('refuses a finding that skipped validation', () => {
    expect(() => normalizeFinding({ ...REFERENCE_FINDING, DueDate: '02-30-2022' })).toThrow(TypeError);
  });

  it('does not change its input', () => {
    const input = { ...REFERENCE_FINDING };
    normalizeFinding(input);
    expect(input).toEqual(REFERENCE_FINDING);
  });
});

describe('normalizeFindings', () => {
  it('keeps the order of the batch', () => {
    const result = normalizeFindings([
      { ...REFERENCE_FINDING, VulnID: 'b', Priority: '4' },
      { ...REFERENCE_FINDING, VulnID: 'a', Priority: '0' },
    ]);
    expect(result.map((finding) => [finding.VulnID, finding.Severity])).toEqual([
      ['b', 'CRITICAL'],
      ['a', 'INFO'],
    ]);
  });
});

describe('lastPerKey', () => {
  it('keeps one finding per Org + VulnID, the last occurrence, in the order of last occurrences', () => {
    const batch = [
      { Org: 'org1', VulnID: 'a', n: 1 },
      { Org: 'org1', VulnID: 'b', n: 2 },
      { Org: 'org2', VulnID: 'a', n: 3 },
      { Org: 'org1', VulnID: 'a', n: 4 },
    ];
    expect(lastPerKey(batch)).toEqual([batch[1], batch[2], batch[3]]);
  });

  it('never confuses keys that only concatenate alike', () => {
    expect(
      lastPerKey([
        { Org: 'org1', VulnID: 'x#y' },
        { Org: 'org1#x', VulnID: 'y' },
      ]),
    ).toHaveLength(2);
  });
});
