import { recordBatch } from '../../functions/shared/core/finding-events';
import { contributions, dayOf, prunableCounters, readSummary } from '../../functions/shared/core/org-summary';
import type { Severity } from '../../functions/shared/core/severity';
import { DEFAULT_SLA_POLICY, slaPolicyFrom, type SlaPolicy } from '../../functions/shared/core/sla';
import { WORKFLOW_STATES } from '../../functions/shared/core/triage';
import { figures, recount } from '../support/summary-recount';
import { finding, FindingsModel, MemoryEventStore, NO_FAULTS, seeded, type Faults } from '../support/finding-model';

const DAY_MS = 24 * 60 * 60 * 1000;
const START = Date.parse('2026-01-01T08:00:00.000Z');
const ORGS = ['org1', 'org2'];
const SEVERITY_CHOICES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

/** Delivers the model's stream as Lambda would: batches, retries from the reported record, sometimes again from earlier. */
async function deliver(model: FindingsModel, store: MemoryEventStore, random: ReturnType<typeof seeded>) {
  let position = 0;
  let guard = 0;
  while (position < model.stream.length) {
    guard += 1;
    if (guard > 10_000) throw new Error('the stream never drained');
    const batch = model.stream.slice(position, position + 1 + random.int(10));
    const outcome = await recordBatch(store, batch, 400, 3);
    if (outcome.retryFrom === undefined) position += batch.length;
    else position = model.stream.findIndex((change) => change.sequenceNumber === outcome.retryFrom);
    // At-least-once: a record already recorded comes again (a restarted poller, a bisected retry).
    if (random.chance(0.1)) position = Math.max(0, position - 1 - random.int(5));
  }
}

async function randomSequence(seed: number, faults: Faults) {
  const random = seeded(seed);
  const model = new FindingsModel(START);
  const store = new MemoryEventStore(random.next, faults);
  const vulnIds = ['v1', 'v2', 'v3', 'v4', 'v5'];
  const operations = 10 + random.int(40);
  for (let op = 0; op < operations; op += 1) {
    model.clock += random.int(3 * DAY_MS);
    const org = random.pick(ORGS);
    const vulnId = random.pick(vulnIds);
    const roll = random.next();
    if (roll < 0.45) {
      // A push, a re-push of the same detail, or a late (older) scan that must change nothing.
      const at = random.chance(0.15) ? model.clock - random.int(5 * DAY_MS) : model.clock;
      const severity = random.chance(0.8)
        ? (model.get(org, vulnId)?.Severity ?? random.pick(SEVERITY_CHOICES))
        : random.pick(SEVERITY_CHOICES);
      const detail = random.chance(0.6) ? 'same detail' : `detail ${random.int(3)}`;
      model.push(finding(org, vulnId, severity as Severity, detail), at, random.chance(0.5) ? `run-${op}` : undefined);
      if (random.chance(0.2)) model.push(finding(org, vulnId, severity as Severity, detail), at, `run-${op}b`);
    } else if (roll < 0.7) {
      model.close(org, vulnId, model.clock, `run-${op}`);
    } else {
      const workflow = random.pick(WORKFLOW_STATES);
      model.triage(org, vulnId, workflow, model.clock + (1 + random.int(40)) * DAY_MS * random.next());
    }
  }
  await deliver(model, store, random);
  return { model, store, random };
}

describe('the org summary equals a full recount', () => {
  const policies: SlaPolicy[] = [
    { ...DEFAULT_SLA_POLICY },
    slaPolicyFrom({ CRITICAL: 1, HIGH: 3, MEDIUM: null, LOW: 180, INFO: 2 }, 'org1'),
  ];

  it('after hundreds of random sequences of pushes, re-pushes, closes, reopenings and triage, redelivered and failing half-way', async () => {
    let compared = 0;
    for (let seed = 1; seed <= 200; seed += 1) {
      const faults = seed % 3 === 0 ? NO_FAULTS : { history: 0.1, summaryBefore: 0.1, summaryAfter: 0.1 };
      const { model, store, random } = await randomSequence(seed, faults);
      // Every change has its entry, once: one per stream record, whatever was redelivered.
      expect(store.history.size).toBe(model.stream.length);
      for (const org of ORGS) {
        const findings = [...model.findings.values()].filter((f) => f.Org === org);
        const item = store.summaries.get(org) ?? {};
        // At the last change, and later: acceptances expire, findings grow overdue, windows move.
        for (const later of [0, random.int(20 * DAY_MS), random.int(120 * DAY_MS)]) {
          const now = new Date(model.clock + later);
          const policy = random.pick(policies);
          const summary = readSummary(org, item, now, policy);
          expect({ seed, org, ...figures(summary) }).toEqual({ seed, org, ...recount(findings, now, policy) });
          compared += 1;
        }
      }
    }
    expect(compared).toBe(200 * ORGS.length * 3);
  });

  it('keeps no counter at zero: the item holds only buckets that count something', async () => {
    const { store } = await randomSequence(7, NO_FAULTS);
    for (const item of store.summaries.values())
      for (const [name, value] of Object.entries(item))
        if (typeof value === 'number') expect([name, value]).not.toEqual([name, 0]);
  });
});

describe('faults half-way through a batch', () => {
  function twoChanges() {
    const model = new FindingsModel(START);
    model.push(finding('org1', 'v1', 'HIGH', 'a'), START);
    model.push(finding('org1', 'v2', 'LOW', 'b'), START);
    return model;
  }

  it('history written, summary not: the retry counts each change once, and none is counted without its entry', async () => {
    const model = twoChanges();
    const store = new MemoryEventStore(() => 0, { history: 0, summaryBefore: 1, summaryAfter: 0 });
    const first = await recordBatch(store, model.stream, 400, 2);
    expect(first.retryFrom).toBe(model.stream[0]?.sequenceNumber);
    expect(store.history.size).toBe(2);
    expect(store.summaries.get('org1')).toBeUndefined();
    store.faults = NO_FAULTS;
    expect((await recordBatch(store, model.stream, 400, 2)).retryFrom).toBeUndefined();
    const summary = readSummary('org1', store.summaries.get('org1') ?? {}, new Date(START), DEFAULT_SLA_POLICY);
    expect(summary.counts.OPEN.HIGH.NEW).toBe(1);
    expect(summary.counts.OPEN.LOW.NEW).toBe(1);
    expect(store.history.size).toBe(2);
  });

  it('an entry that fails keeps its change and every later one out of the summary until the retry', async () => {
    const model = twoChanges();
    let calls = 0;
    const store = new MemoryEventStore(() => 0.5, NO_FAULTS);
    const put = store.putHistoryEntry.bind(store);
    store.putHistoryEntry = async (entry) => {
      calls += 1;
      if (entry.VulnID === 'v2' && calls <= 2) throw new Error('injected');
      return put(entry);
    };
    const first = await recordBatch(store, model.stream, 400, 1);
    expect(first.retryFrom).toBe(model.stream[1]?.sequenceNumber);
    let summary = readSummary('org1', store.summaries.get('org1') ?? {}, new Date(START), DEFAULT_SLA_POLICY);
    expect(summary.counts.OPEN.HIGH.NEW).toBe(1);
    expect(summary.counts.OPEN.LOW.NEW).toBe(0);
    await recordBatch(store, model.stream.slice(1), 400, 1);
    summary = readSummary('org1', store.summaries.get('org1') ?? {}, new Date(START), DEFAULT_SLA_POLICY);
    expect(summary.counts.OPEN.LOW.NEW).toBe(1);
  });

  it('summary written and its answer lost: the retried batch is skipped, never counted twice', async () => {
    const model = twoChanges();
    const store = new MemoryEventStore(() => 0, { history: 0, summaryBefore: 0, summaryAfter: 1 });
    expect((await recordBatch(store, model.stream, 400, 2)).retryFrom).toBe(model.stream[0]?.sequenceNumber);
    store.faults = NO_FAULTS;
    await recordBatch(store, model.stream, 400, 2);
    await recordBatch(store, model.stream, 400, 2);
    const summary = readSummary('org1', store.summaries.get('org1') ?? {}, new Date(START), DEFAULT_SLA_POLICY);
    expect(summary.counts.OPEN.HIGH.NEW + summary.counts.OPEN.LOW.NEW).toBe(2);
  });
});

describe('MTTR on a scripted timeline', () => {
  it('averages FixedAt − FirstSeen per severity over the findings fixed in the window', async () => {
    const model = new FindingsModel(Date.parse('2026-03-01T00:00:00.000Z'));
    const at = (iso: string) => Date.parse(iso);
    model.push(finding('org1', 'c1', 'CRITICAL', 'x'), at('2026-03-01T00:00:00.000Z'));
    model.push(finding('org1', 'c2', 'CRITICAL', 'x'), at('2026-03-02T00:00:00.000Z'));
    model.push(finding('org1', 'h1', 'HIGH', 'x'), at('2026-01-01T00:00:00.000Z'));
    model.clock = at('2026-03-11T00:00:00.000Z');
    model.close('org1', 'c1', at('2026-03-03T00:00:00.000Z'), 'run-a'); // 48 h
    model.close('org1', 'c2', at('2026-03-06T00:00:00.000Z'), 'run-b'); // 96 h
    model.close('org1', 'h1', at('2026-01-21T00:00:00.000Z'), 'run-c'); // 480 h, fixed 49 days before the read
    const store = new MemoryEventStore();
    await recordBatch(store, model.stream, 400, 1);
    const summary = readSummary(
      'org1',
      store.summaries.get('org1') ?? {},
      new Date('2026-03-11T12:00:00.000Z'),
      DEFAULT_SLA_POLICY,
    );
    expect(summary.windows.last30Days.mttrHours.CRITICAL).toBe(72);
    expect(summary.windows.last30Days.fixed.CRITICAL).toBe(2);
    expect(summary.windows.last30Days.mttrHours.HIGH).toBeNull();
    expect(summary.windows.last90Days.mttrHours.HIGH).toBe(480);
    // c1 comes back: no longer fixed, so out of the MTTR; its reopening counts in both windows.
    model.push(finding('org1', 'c1', 'CRITICAL', 'x'), at('2026-03-12T00:00:00.000Z'));
    await recordBatch(store, model.stream.slice(-1), 400, 1);
    const later = readSummary(
      'org1',
      store.summaries.get('org1') ?? {},
      new Date('2026-03-12T12:00:00.000Z'),
      DEFAULT_SLA_POLICY,
    );
    expect(later.windows.last30Days.mttrHours.CRITICAL).toBe(96);
    expect(later.windows.last30Days.reopenedTotal).toBe(1);
    expect(later.oldestOpenDays.CRITICAL).toBe(11);
    expect(later.lastChanged).toBe('2026-03-11T00:00:00.000Z');
  });
});

describe('an acceptance expires on read', () => {
  it('counts RISK_ACCEPTED until its expiry and NEW (and overdue) from that instant, with no write', async () => {
    const model = new FindingsModel(START);
    model.push(finding('org1', 'v1', 'CRITICAL', 'x'), START);
    model.clock = START + DAY_MS;
    const expiry = START + 20 * DAY_MS;
    model.triage('org1', 'v1', 'RISK_ACCEPTED', expiry);
    const store = new MemoryEventStore();
    await recordBatch(store, model.stream, 400, 1);
    const item = store.summaries.get('org1') ?? {};
    const before = readSummary('org1', item, new Date(expiry - 1), DEFAULT_SLA_POLICY);
    expect(before.counts.OPEN.CRITICAL.RISK_ACCEPTED).toBe(1);
    expect(before.overdue.CRITICAL).toBe(0);
    const after = readSummary('org1', item, new Date(expiry), DEFAULT_SLA_POLICY);
    expect(after.counts.OPEN.CRITICAL.RISK_ACCEPTED).toBe(0);
    expect(after.counts.OPEN.CRITICAL.NEW).toBe(1);
    // First seen on day d, CRITICAL's 15 days: overdue from day d + 16.
    expect(after.overdue.CRITICAL).toBe(1);
    expect(dayOf(new Date(expiry).toISOString()) - dayOf(new Date(START).toISOString())).toBe(20);
  });
});

describe('old window buckets are pruned when the consumer writes', () => {
  it('names only fix, duration and reopening buckets of days before the 90-day window (and a day of margin)', () => {
    const now = new Date('2026-06-30T12:00:00.000Z');
    const today = dayOf(now.toISOString());
    const item = {
      Org: 'org1',
      Seq: '1',
      Changed: now.toISOString(),
      [`fC${today - 91}`]: 1,
      [`tC${today - 91}`]: 3_600_000,
      [`rH${today - 200}`]: 2,
      [`fC${today - 90}`]: 1,
      [`tC${today - 90}`]: 7_200_000,
      [`rH${today - 89}`]: 1,
      [`oC${today - 400}`]: 1,
      [`dC${today - 400}`]: 1,
      [`aOC${today - 400}_${now.getTime()}`]: 1,
      cOCN: 2,
    };
    expect(prunableCounters(item, now).sort()).toEqual([`fC${today - 91}`, `rH${today - 200}`, `tC${today - 91}`]);
    // A day later, the day before the window's edge goes too.
    expect(prunableCounters(item, new Date(now.getTime() + DAY_MS)).sort()).toEqual(
      [`fC${today - 91}`, `fC${today - 90}`, `rH${today - 200}`, `tC${today - 91}`, `tC${today - 90}`].sort(),
    );
  });

  it('changes no figure at the write or any later instant', () => {
    const model = new FindingsModel(START);
    const at = (days: number) => START + days * DAY_MS;
    model.push(finding('org1', 'c1', 'CRITICAL', 'x'), at(0));
    model.close('org1', 'c1', at(2), 'run-1');
    model.push(finding('org1', 'h1', 'HIGH', 'x'), at(1));
    model.close('org1', 'h1', at(3), 'run-2');
    model.push(finding('org1', 'h1', 'HIGH', 'x'), at(5));
    model.push(finding('org1', 'm1', 'MEDIUM', 'x'), at(100));
    model.close('org1', 'm1', at(120), 'run-3');
    const item: Record<string, unknown> = { Org: 'org1' };
    for (const f of model.findings.values())
      for (const [name, value] of Object.entries(contributions(f))) item[name] = ((item[name] as number) ?? 0) + value;
    const writtenAt = new Date(at(130));
    const pruned = prunableCounters(item, writtenAt);
    expect(pruned.length).toBeGreaterThan(0);
    const kept = Object.fromEntries(Object.entries(item).filter(([name]) => !pruned.includes(name)));
    for (const later of [0, 1, 29, 89, 90, 91, 400]) {
      const now = new Date(writtenAt.getTime() + later * DAY_MS);
      expect([later, readSummary('org1', kept, now, DEFAULT_SLA_POLICY)]).toEqual([
        later,
        readSummary('org1', item, now, DEFAULT_SLA_POLICY),
      ]);
    }
  });
});
