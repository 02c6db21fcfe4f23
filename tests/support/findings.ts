import type { Finding } from '../../functions/shared/core/finding-schema';
import type { NormalizedFinding } from '../../functions/shared/core/normalize';
import { REFERENCE_FINDING } from '../../local/seed';

/** The reference request (local/seed.ts), the one events/ and the local seed carry. */
export { REFERENCE_FINDING };

/** The reference finding after the Normalize step. */
export const REFERENCE_NORMALIZED: NormalizedFinding = {
  ...REFERENCE_FINDING,
  DueDate: '2022-09-09',
  Severity: 'UNKNOWN',
};

/** `count` distinct findings of one org, for batch tests. */
export const findingBatch = (count: number, overrides: Partial<Finding> = {}): Finding[] =>
  Array.from({ length: count }, (_, index) => ({ ...REFERENCE_FINDING, VulnID: `vuln-${index}`, ...overrides }));
