/**
 * The scan-run calls of `npm run push`: open a run (POST /scans), complete it (POST
 * /scans/{runId}/complete) and read its receipt (GET /scans/{runId}?org=), each over mutual TLS with
 * the sender's retries. Waiting for the close polls the receipt with a bounded number of reads.
 */
import type { Receipt } from '../../functions/shared/core/scan-run';
import { callWithRetry, DEFAULT_RETRY, messageOf, type RetryPolicy, type SenderOptions } from './sender';

export type { Receipt };

/** An answer of the API that is not what the call needs (status and the API's message). */
export class ScanRunError extends Error {
  override readonly name = 'ScanRunError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OpenedRun {
  runId: string;
  org: string;
  scanner: string;
  scannedAt: string;
  state: string;
}

export interface WaitOptions {
  /** Reads of the receipt before giving up. */
  maxPolls: number;
  intervalMs: number;
  onPoll?: (receipt: Receipt, poll: number) => void;
}

export const DEFAULT_WAIT: WaitOptions = { maxPolls: 600, intervalMs: 1000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ScanRunClient {
  private readonly base: string;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: Pick<SenderOptions, 'url' | 'identity' | 'caPem' | 'retry' | 'timeoutMs'>) {
    this.base = options.url.endsWith('/') ? options.url : `${options.url}/`;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown) {
    const result = await callWithRetry(this.options, this.retry, {
      path: new URL(path, this.base).href,
      method,
      ...(body === undefined ? {} : { body, headers: { 'Content-Type': 'application/json' } }),
    });
    return result;
  }

  /** Opens a run; throws ScanRunError unless the API answers 201. */
  async open(run: {
    org: string;
    scanner: string;
    scannedAt: string;
    scope?: { assets: string[] };
  }): Promise<OpenedRun> {
    const result = await this.request('POST', 'scans', run);
    if (result.status !== 201)
      throw new ScanRunError(result.status, `opening the scan run failed: HTTP ${result.status} ${messageOf(result)}`);
    return result.json() as OpenedRun;
  }

  /** Completes a run (closing starts asynchronously); throws ScanRunError unless the API answers 202. */
  async complete(runId: string): Promise<{ runId: string; state: string }> {
    const result = await this.request('POST', `scans/${encodeURIComponent(runId)}/complete`);
    if (result.status !== 202)
      throw new ScanRunError(
        result.status,
        `completing the scan run failed: HTTP ${result.status} ${messageOf(result)}`,
      );
    return result.json() as { runId: string; state: string };
  }

  async receipt(runId: string, org: string): Promise<Receipt> {
    const result = await this.request('GET', `scans/${encodeURIComponent(runId)}?org=${encodeURIComponent(org)}`);
    if (result.status !== 200)
      throw new ScanRunError(result.status, `reading the scan run failed: HTTP ${result.status} ${messageOf(result)}`);
    return result.json() as Receipt;
  }

  /** Reads the receipt until the run is closed, at most `maxPolls` times; the last receipt either way. */
  async waitForClosed(runId: string, org: string, wait: WaitOptions = DEFAULT_WAIT): Promise<Receipt> {
    let receipt = await this.receipt(runId, org);
    for (let poll = 1; receipt.state !== 'closed' && poll < wait.maxPolls; poll += 1) {
      wait.onPoll?.(receipt, poll);
      await sleep(wait.intervalMs);
      receipt = await this.receipt(runId, org);
    }
    return receipt;
  }
}
