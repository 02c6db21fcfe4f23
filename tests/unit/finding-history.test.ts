import {
  historyEntry,
  paddedSequence,
  presentEntry,
  type HistoryEntry,
} from '../../functions/shared/core/finding-history';
import { finding, FindingsModel } from '../support/finding-model';

const START = Date.parse('2026-02-01T10:00:00.000Z');
const DAY_MS = 24 * 60 * 60 * 1000;

function entries(model: FindingsModel, retentionDays = 400): HistoryEntry[] {
  return model.stream.map((change) => historyEntry(change, retentionDays));
}

describe('history entries from stream images', () => {
  it('names every change: created, updated (which fields), seen, fixed (by which run), reopened, triaged (from, to)', () => {
    const model = new FindingsModel(START);
    model.push(finding('org1', 'v1', 'HIGH', 'first'), START, 'run-1');
    model.push(finding('org1', 'v1', 'CRITICAL', 'second'), START + DAY_MS);
    model.push(finding('org1', 'v1', 'CRITICAL', 'second'), START + DAY_MS, 'run-2');
    model.clock = START + 2 * DAY_MS;
    model.triage('org1', 'v1', 'ACKNOWLEDGED');
    model.close('org1', 'v1', START + 3 * DAY_MS, 'run-3');
    model.push(finding('org1', 'v1', 'CRITICAL', 'second'), START + 4 * DAY_MS, 'run-4');
    const [created, updated, seen, triaged, fixed, reopened] = entries(model);
    expect(created).toMatchObject({
      Kind: 'created',
      Finding: 'org1#v1',
      At: new Date(START).toISOString(),
      RunId: 'run-1',
      By: { subject: 'CN=scanner-01, OU=scanner', serialNumber: '0A', runId: 'run-1', requestId: `r${START}` },
      ToStatus: 'OPEN',
    });
    expect(updated).toMatchObject({ Kind: 'updated', Fields: ['PluginName', 'Priority', 'Severity'] });
    expect(seen).toMatchObject({ Kind: 'seen', Fields: [], RunId: 'run-2' });
    expect(triaged).toMatchObject({
      Kind: 'triaged',
      FromWorkflow: 'NEW',
      ToWorkflow: 'ACKNOWLEDGED',
      Fields: ['Workflow'],
      By: { subject: 'CN=triager, OU=triage', serialNumber: '0B' },
    });
    expect(fixed).toMatchObject({ Kind: 'fixed', RunId: 'run-3', FromStatus: 'OPEN', ToStatus: 'FIXED' });
    // The reopening takes ACKNOWLEDGED back to NEW in the same write: the entry says so.
    expect(reopened).toMatchObject({
      Kind: 'reopened',
      RunId: 'run-4',
      FromStatus: 'FIXED',
      ToStatus: 'OPEN',
      FromWorkflow: 'ACKNOWLEDGED',
      ToWorkflow: 'NEW',
    });
  });

  it('is the same item for a redelivered record (same keys, same content), and sorts by sequence as text', () => {
    const model = new FindingsModel(START);
    model.push(finding('org1', 'v1', 'HIGH', 'first'), START);
    const [change] = model.stream;
    expect(historyEntry(change!, 400)).toEqual(historyEntry(structuredClone(change!), 400));
    expect(paddedSequence('99999') < paddedSequence('100000')).toBe(true);
    expect(paddedSequence('7')).toHaveLength(40);
    expect(() => paddedSequence('12a')).toThrow();
  });

  it('keeps entries at least 90 days (TTL from the record time), and answers neither keys nor TTL', () => {
    const model = new FindingsModel(START);
    model.push(finding('org1', 'v1', 'HIGH', 'first'), START);
    const entry = historyEntry(model.stream[0]!, 90);
    expect(entry.ExpiresAt).toBe(Math.floor(START / 1000) + 90 * 86_400);
    expect(() => historyEntry(model.stream[0]!, 89)).toThrow(/at least 90 days/);
    expect(presentEntry(entry)).not.toHaveProperty('Finding');
    expect(presentEntry(entry)).not.toHaveProperty('ExpiresAt');
  });
});
