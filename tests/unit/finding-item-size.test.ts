/**
 * A write of a finding stays one write unit (issue 16): the item the write step stores for the bench's finding,
 * with the `By` every write now adds (a long subject, a CA key, a serial, a request id and a run id), is under 1 KB.
 * Sizes as DynamoDB counts them ("Item sizes and formats", Amazon DynamoDB Developer Guide): an attribute's name
 * plus its value; strings by UTF-8 length, numbers about one byte per two digits plus one, maps and lists 3 bytes
 * plus one per element plus their contents.
 */
import { benchFinding } from '../../bench/workload';
import { storedActor } from '../../functions/shared/core/change-actor';
import { normalizeFinding } from '../../functions/shared/core/normalize';

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace('.', '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, item) => sum + 1 + valueBytes(item), 0);
  if (typeof value === 'object')
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (sum, [name, item]) => sum + 1 + Buffer.byteLength(name, 'utf8') + valueBytes(item),
        0,
      )
    );
  return 0;
}

const itemBytes = (item: Record<string, unknown>) =>
  Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + valueBytes(value), 0);

test('the bench finding as the write step stores it, with who wrote it, stays under 1 KB (one write unit)', () => {
  const item = {
    ...normalizeFinding(benchFinding('bench-000123')),
    Scanner: 'nessus',
    FirstSeen: '2026-03-02T09:00:00.000Z',
    LastSeen: '2026-03-02T09:00:00.000Z',
    Status: 'OPEN',
    Version: 12,
    LastRunId: '3f0c6c2e-8a4b-4c1d-9e2f-5a6b7c8d9e0f',
    By: storedActor({
      subject: 'CN=scanner-01.internal.example.com, OU=scanner, O=Example Corporation, L=Springfield, C=US',
      issuerKey: 'a'.repeat(64),
      serialNumber: '7A3F09C2D1E4B5A6978812345678ABCDEF012345',
      requestId: 'ExAmPlEiDbQ=',
      runId: '3f0c6c2e-8a4b-4c1d-9e2f-5a6b7c8d9e0f',
    }),
  };
  expect(itemBytes(item)).toBeLessThan(1024);
  // The measure counts what DynamoDB counts: a 1 KB string attribute alone is over it.
  expect(itemBytes({ Note: 'x'.repeat(1024) })).toBeGreaterThan(1024);
});
