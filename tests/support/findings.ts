import type { Finding } from '../../functions/shared/core/finding-schema';
import type { NormalizedFinding } from '../../functions/shared/core/normalize';

/** The reference request of the product brief: it must always pass validation. */
export const REFERENCE_FINDING: Finding = {
  VulnID: 'testID3',
  Org: 'org1',
  AssetName: 'lax-psg-g.internal.org.com',
  DueDate: '09-09-2022',
  PluginId: 23234,
  PluginName: 'Palo Alto confusion ADE-OS Local File Inclusion',
  Priority: '234234234',
};

/** The reference finding after the Normalize step. */
export const REFERENCE_NORMALIZED: NormalizedFinding = { ...REFERENCE_FINDING, DueDate: '2022-09-09', Severity: 'UNKNOWN' };

/** `count` distinct findings of one org, for batch tests. */
export const findingBatch = (count: number, overrides: Partial<Finding> = {}): Finding[] =>
  Array.from({ length: count }, (_, index) => ({ ...REFERENCE_FINDING, VulnID: `vuln-${index}`, ...overrides }));
