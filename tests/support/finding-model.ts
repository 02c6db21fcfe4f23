/**
 * A model of the findings table for the summary and history tests: it changes findings by the product's own pure
 * rules (core/lifecycle.ts decideWrite and shouldClose, core/triage.ts workflowOnReopen), writing each change the way
 * the repositories write it, and records every change as the stream would (old and new image, increasing sequence
 * numbers). An in-memory store stands in for the history and summary tables, with DynamoDB's conditional semantics
 * and injectable faults.
 */
import type { FindingEventStore, SummaryGroup } from '../../functions/shared/core/finding-events';
import type { FindingChange, FindingImage, HistoryEntry } from '../../functions/shared/core/finding-history';
import { addCounters, isCounter, prunableCounters, type Counters } from '../../functions/shared/core/org-summary';
import { decideWrite, statusOf, type ScanContext } from '../../functions/shared/core/lifecycle';
import type { NormalizedFinding } from '../../functions/shared/core/normalize';
import type { Severity } from '../../functions/shared/core/severity';
import { workflowOnReopen, type WorkflowState } from '../../functions/shared/core/triage';
import { storedActor } from '../../functions/shared/core/change-actor';

/** A seeded generator (mulberry32): a failing sequence is repeated by its seed. */
export function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class FindingsModel {
  readonly findings = new Map<string, FindingImage>();
  readonly stream: FindingChange[] = [];
  /** Starts below a power of ten so the sequence numbers grow a digit: they must still sort (padded). */
  private sequence = 99_990n;
  constructor(public clock: number) {}

  private record(before: FindingImage | undefined, after: FindingImage): void {
    this.findings.set(`${after.Org}#${after.VulnID}`, after);
    this.sequence += 1n + BigInt(this.stream.length % 3);
    this.stream.push({
      eventName: before === undefined ? 'INSERT' : 'MODIFY',
      sequenceNumber: this.sequence.toString(),
      recordedAt: Math.floor(this.clock / 1000),
      oldImage: before,
      newImage: after,
    });
  }

  get(org: string, vulnId: string): FindingImage | undefined {
    return this.findings.get(`${org}#${vulnId}`);
  }

  /** A report, written as findings-repository.ts writes it (stale: nothing). */
  push(finding: NormalizedFinding, scannedAt: number, runId?: string): void {
    const stored = this.get(finding.Org, finding.VulnID);
    const scan: ScanContext = { scannedAt: new Date(scannedAt).toISOString(), runId };
    const decision = decideWrite(stored, finding, scan);
    if (!decision.write) return;
    const by = storedActor({
      subject: 'CN=scanner-01, OU=scanner',
      serialNumber: '0A',
      requestId: `r${scannedAt}`,
      runId,
    });
    const version = (stored?.Version ?? 0) + 1;
    if (decision.outcome === 'unchanged') {
      this.record(stored, { ...(stored as FindingImage), LastRunId: runId, Version: version, By: by });
      return;
    }
    const after: FindingImage = {
      ...stored,
      ...finding,
      FirstSeen: stored?.FirstSeen ?? scan.scannedAt,
      LastSeen: scan.scannedAt,
      Status: 'OPEN',
      Version: version,
      By: by,
      ...(runId === undefined ? {} : { LastRunId: runId }),
    };
    if (decision.reopen) {
      after.ReopenedAt = scan.scannedAt;
      after.TimesReopened = (stored?.TimesReopened ?? 0) + 1;
      const workflow = workflowOnReopen(stored?.Workflow);
      if (workflow !== undefined) after.Workflow = workflow;
    }
    this.record(stored, after);
  }

  /** A completed run's close of one finding (close-findings.ts: still OPEN and last seen before the run). */
  close(org: string, vulnId: string, scannedAt: number, runId: string): void {
    const stored = this.get(org, vulnId);
    if (stored === undefined || statusOf(stored) !== 'OPEN' || Date.parse(stored.LastSeen) >= scannedAt) return;
    this.record(stored, {
      ...stored,
      Status: 'FIXED',
      FixedAt: new Date(scannedAt).toISOString(),
      FixedByRunId: runId,
      Version: (stored.Version ?? 0) + 1,
      By: storedActor({ runId, serialNumber: '0A' }),
    });
  }

  /** A triage (triage-repository.ts). */
  triage(org: string, vulnId: string, workflow: WorkflowState, acceptedUntil?: number): void {
    const stored = this.get(org, vulnId);
    if (stored === undefined) return;
    const after: FindingImage = {
      ...stored,
      Workflow: workflow,
      TriagedAt: new Date(this.clock).toISOString(),
      TriagedBy: { subject: 'CN=triager, OU=triage', serialNumber: '0B', requestId: `t${this.clock}` },
      Version: (stored.Version ?? 0) + 1,
    };
    delete after.Justification;
    delete after.AcceptedUntil;
    if (workflow === 'RISK_ACCEPTED') {
      after.Justification = 'compensating control';
      after.AcceptedUntil = new Date(acceptedUntil ?? this.clock + 7 * DAY_MS).toISOString();
    }
    this.record(stored, after);
  }
}

export const finding = (org: string, vulnId: string, severity: Severity, detail: string): NormalizedFinding => ({
  Org: org,
  VulnID: vulnId,
  AssetName: 'host-1.example.com',
  DueDate: '2026-12-31',
  PluginId: 1,
  PluginName: detail,
  Priority: severity,
  Severity: severity,
});

export interface Faults {
  /** Probability that a history put fails before writing. */
  history: number;
  /** Probability that a summary update fails before applying. */
  summaryBefore: number;
  /** Probability that a summary update is applied and its answer lost (the caller sees an error). */
  summaryAfter: number;
}

export const NO_FAULTS: Faults = { history: 0, summaryBefore: 0, summaryAfter: 0 };

/** The history and summary tables in memory, with DynamoDB's conditional update semantics. */
export class MemoryEventStore implements FindingEventStore {
  readonly history = new Map<string, HistoryEntry>();
  readonly summaries = new Map<string, Record<string, unknown>>();
  historyPuts = 0;
  constructor(
    private readonly random: () => number = Math.random,
    public faults: Faults = NO_FAULTS,
  ) {}

  async putHistoryEntry(entry: HistoryEntry): Promise<void> {
    if (this.random() < this.faults.history) throw new Error('injected: history put failed');
    this.historyPuts += 1;
    this.history.set(`${entry.Finding}|${entry.Seq}`, entry);
  }

  async applySummaryGroup(org: string, group: SummaryGroup): Promise<{ refusedAt?: string }> {
    if (this.random() < this.faults.summaryBefore) throw new Error('injected: summary update failed');
    const item = this.summaries.get(org) ?? { Org: org };
    const seq = item.Seq as string | undefined;
    if (seq !== undefined && !(seq < group.first)) return { refusedAt: seq };
    const counters: Counters = {};
    for (const [name, value] of Object.entries(item)) if (isCounter(name)) counters[name] = value as number;
    addCounters(counters, group.delta);
    const next: Record<string, unknown> = { Org: org, Seq: group.last, ...counters };
    next.Changed = Object.keys(group.delta).length > 0 ? group.changedAt : item.Changed;
    if (next.Changed === undefined) delete next.Changed;
    // As the adapter does after its write (summary-repository.ts): window buckets no read reaches any more go.
    for (const name of prunableCounters(next, new Date(group.changedAt))) delete next[name];
    this.summaries.set(org, next);
    if (this.random() < this.faults.summaryAfter) throw new Error('injected: summary answer lost');
    return {};
  }
}
