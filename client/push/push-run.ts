/**
 * `npm run push` with a scan run (docs/finding-lifecycle.md): check the files, open a run for the org
 * at the scan's time, send every batch with its runId, complete the run only if every batch was
 * accepted, wait for the close, and read the receipt. A run left open closes nothing.
 */
import { checkScanFiles, scanStartOf, sendCheckedFiles, type PushOptions, type PushSummary } from './push';
import { BatchSender, type SenderOptions } from './sender';
import { ScanRunClient, type OpenedRun, type Receipt, type WaitOptions } from './scan-run';

export interface RunPushOptions extends Omit<PushOptions, 'sender'> {
  connection: Omit<SenderOptions, 'envelope'>;
  /** The run's scan time; default the scan's start time the export states, else now. */
  scannedAt?: Date | undefined;
  /** Assets the run covers beyond those its findings name (POST /scans `scope`): their unseen findings close too. */
  scope?: { assets: string[] } | undefined;
  /** Complete the run when every batch was accepted (default); false sends without closing anything. */
  complete: boolean;
  wait?: WaitOptions | undefined;
  /** Called once the run is open, before the first batch. */
  onOpened?: (run: OpenedRun) => void;
  /** Called when every batch was accepted and the run is about to be completed. */
  onCompleting?: () => void;
}

export interface RunPushResult {
  summary: PushSummary;
  run: OpenedRun;
  /** Whether the run was completed (every batch accepted, and completing was asked for). */
  completed: boolean;
  /** The receipt at the end: closed when the close finished within the wait, else as last read. */
  receipt: Receipt;
}

export async function pushScanRun(paths: string[], options: RunPushOptions): Promise<RunPushResult> {
  const files = await checkScanFiles(paths, options.mapping);
  const runs = new ScanRunClient(options.connection);
  const scannedAt = options.scannedAt ?? scanStartOf(files) ?? options.mapping.now;
  const run = await runs.open({
    org: options.mapping.org,
    scanner: options.mapping.scanner,
    scannedAt: scannedAt.toISOString(),
    ...(options.scope === undefined ? {} : { scope: options.scope }),
  });
  options.onOpened?.(run);
  const sender = new BatchSender({ ...options.connection, envelope: { runId: run.runId } });
  const summary = await sendCheckedFiles(paths, files, { ...options, sender });
  // A run with a refused or failed batch is not complete: closing would mark FIXED what it failed to send.
  const completed = options.complete && summary.rejected.length === 0 && summary.failed.length === 0;
  if (!completed) return { summary, run, completed, receipt: await runs.receipt(run.runId, run.org) };
  options.onCompleting?.();
  await runs.complete(run.runId);
  return { summary, run, completed, receipt: await runs.waitForClosed(run.runId, run.org, options.wait) };
}
