import type { Finding } from '../../../functions/shared/core/finding-schema';
import { batchesOf, requestBody, splitBatch, type Batch } from '../../../client/push/batches';
import { REFERENCE_FINDING } from '../../support/findings';

const findings = (count: number, descriptionChars = 500): Finding[] =>
  Array.from({ length: count }, (_, index) => ({
    ...REFERENCE_FINDING,
    VulnID: `v-${index}`,
    Description: 'd'.repeat(descriptionChars + (index % 37)),
  }));

const collect = async (source: AsyncGenerator<Batch>) => {
  const batches: Batch[] = [];
  for await (const batch of source) batches.push(batch);
  return batches;
};

describe('batchesOf', () => {
  it('keeps every batch within the count and byte limits, with its exact size, and loses nothing', async () => {
    const input = findings(1000);
    const batches = await collect(batchesOf(input, { maxFindings: 100, maxBytes: 20_000 }));
    for (const batch of batches) {
      expect(batch.findings.length).toBeLessThanOrEqual(100);
      expect(batch.bytes).toBe(Buffer.byteLength(requestBody(batch.findings)));
      expect(batch.bytes).toBeLessThanOrEqual(20_000);
    }
    expect(batches.flatMap((batch) => batch.findings)).toEqual(input);
  });

  it('stops at the count limit when findings are small', async () => {
    const batches = await collect(batchesOf(findings(250, 10), { maxFindings: 100, maxBytes: 1_000_000 }));
    expect(batches.map((batch) => batch.findings.length)).toEqual([100, 100, 50]);
  });

  it('counts envelope fields in the size', async () => {
    const envelope = { runId: 'r'.repeat(1000) };
    const batches = await collect(batchesOf(findings(50), { maxFindings: 100, maxBytes: 10_000, envelope }));
    for (const batch of batches) expect(batch.bytes).toBe(Buffer.byteLength(requestBody(batch.findings, envelope)));
  });

  it('sends a finding bigger than the limit alone, marked by its size', async () => {
    const input = [...findings(2, 10), ...findings(1, 5000), ...findings(2, 10)];
    const batches = await collect(batchesOf(input, { maxFindings: 100, maxBytes: 2000 }));
    expect(batches.map((batch) => batch.findings.length)).toEqual([2, 1, 2]);
    expect(batches[1]?.bytes).toBeGreaterThan(2000);
  });
});

describe('splitBatch', () => {
  it('halves a batch, each half with its exact size', () => {
    const batch = { findings: findings(5), bytes: 0 };
    const [first, second] = splitBatch(batch);
    expect(first.findings.map((finding) => finding.VulnID)).toEqual(['v-0', 'v-1', 'v-2']);
    expect(second.findings.map((finding) => finding.VulnID)).toEqual(['v-3', 'v-4']);
    expect(first.bytes).toBe(Buffer.byteLength(requestBody(first.findings)));
  });
});
