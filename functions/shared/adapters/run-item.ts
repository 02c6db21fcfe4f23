/** A scan run as the runs table stores it: counts as numbers the batches ADD to, assets as a string set. No client here. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { emptyRunCounts, type RunCounts, type RunState, type ScanRun } from '../core/scan-run';

export const COUNT_ATTRIBUTES: Record<keyof RunCounts, string> = {
  batches: 'Batches',
  received: 'Received',
  created: 'Created',
  updated: 'Updated',
  unchanged: 'Unchanged',
  stale: 'Stale',
  reopened: 'Reopened',
  fixed: 'Fixed',
};

export interface RunItem {
  RunId: string;
  Org: string;
  Scanner: string;
  ScannedAt: string;
  State: RunState;
  OpenedAt: string;
  Opener: ScanRun['opener'];
  Assets?: Set<string>;
  ScopeAssets?: string[];
  ClosingStartedAt?: string;
  ClosedAt?: string;
  [count: string]: unknown;
}

export function toRun(item: RunItem): ScanRun {
  const counts = emptyRunCounts();
  for (const [name, attribute] of Object.entries(COUNT_ATTRIBUTES))
    counts[name as keyof RunCounts] = Number(item[attribute] ?? 0);
  return {
    runId: item.RunId,
    org: item.Org,
    scanner: item.Scanner,
    scannedAt: item.ScannedAt,
    state: item.State,
    openedAt: item.OpenedAt,
    opener: item.Opener,
    assets: [...(item.Assets ?? [])].sort(),
    scopeAssets: item.ScopeAssets ?? [],
    counts,
    closingStartedAt: item.ClosingStartedAt,
    closedAt: item.ClosedAt,
  };
}

/** A run as the table stores it (marshalled): counts as numbers, assets as a string set. */
export function runItem(run: ScanRun): Record<string, AttributeValue> {
  const item: RunItem = {
    RunId: run.runId,
    Org: run.org,
    Scanner: run.scanner,
    ScannedAt: run.scannedAt,
    State: run.state,
    OpenedAt: run.openedAt,
    Opener: run.opener,
    ScopeAssets: run.scopeAssets,
    ...(run.assets.length > 0 ? { Assets: new Set(run.assets) } : {}),
    ...Object.fromEntries(
      Object.entries(COUNT_ATTRIBUTES).map(([name, attribute]) => [attribute, run.counts[name as keyof RunCounts]]),
    ),
  };
  return marshall(item, { removeUndefinedValues: true });
}
