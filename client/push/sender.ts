/**
 * Sends one batch to POST /vuln over mutual TLS and says what became of each finding: accepted
 * (created/updated), rejected by the API (400, 403, 413 even alone) or failed (transient errors that
 * outlasted the retries, or an answer we cannot use). One request per call, so a caller can wrap
 * batches in something larger (a scan run) without changing this.
 *
 * Retries: 429, 503, 504 and network errors, with exponential backoff and full jitter (the
 * exponential-backoff library), waiting at least what `Retry-After` asks. Never 400 or 403: sending
 * the same thing again cannot change the answer. A 413 splits the batch in two and sends each half.
 */
import { backOff } from 'exponential-backoff';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { call, type CallOptions, type CallResult, type ClientIdentity } from '../mtls';
import { userAgent } from '../user-agent';
import { requestBody, splitBatch, type Batch } from './batches';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest `Retry-After` honoured; a longer one counts as this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
};

export interface SenderOptions {
  /** The API's base URL (`https://host[:port][/base]`); findings go to `<base>/vuln`. */
  url: string;
  identity: ClientIdentity;
  /** CA bundle of the server certificate; default: Node's trusted CAs. */
  caPem?: string | undefined;
  retry?: RetryPolicy;
  /** Per request; above the API's own 29 s integration timeout. */
  timeoutMs?: number;
  /** Fields sent next to `findings` in every body. */
  envelope?: Record<string, unknown> | undefined;
}

export interface FindingProblem {
  vulnId: string;
  reason: string;
}

/** What became of one batch (after any splitting and retries). */
export interface BatchReport {
  findings: number;
  created: number;
  updated: number;
  /** Sent again at the same scan time with nothing different. */
  unchanged: number;
  /** Older than what is stored: nothing changed (the scan's time decides). */
  stale: number;
  /** FIXED findings seen again. */
  reopened: number;
  rejected: FindingProblem[];
  failed: FindingProblem[];
  /** Requests made, retries and halves included. */
  requests: number;
  /** Times a 413 split a batch. */
  splits: number;
}

export const emptyReport = (): BatchReport => ({
  findings: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  stale: 0,
  reopened: 0,
  rejected: [],
  failed: [],
  requests: 0,
  splits: 0,
});

export function addReports(into: BatchReport, other: BatchReport): BatchReport {
  into.findings += other.findings;
  into.created += other.created;
  into.updated += other.updated;
  into.unchanged += other.unchanged;
  into.stale += other.stale;
  into.reopened += other.reopened;
  into.rejected.push(...other.rejected);
  into.failed.push(...other.failed);
  into.requests += other.requests;
  into.splits += other.splits;
  return into;
}

class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110, section 10.2.3). */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

const RETRIED_STATUSES = new Set([429, 503, 504]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ApiIssue {
  index: number | null;
  path: string;
  message: string;
}

/** The API's `message` of an answer (bounded), else its status. */
export function messageOf(result: CallResult): string {
  try {
    const body = result.json() as { message?: unknown };
    return typeof body.message === 'string' ? body.message.slice(0, 200) : `HTTP ${result.status}`;
  } catch {
    return `HTTP ${result.status}`;
  }
}

function issuesOf(result: CallResult): ApiIssue[] {
  try {
    const body = result.json() as { errors?: unknown };
    return Array.isArray(body.errors) ? (body.errors as ApiIssue[]) : [];
  } catch {
    return [];
  }
}

export class BatchSender {
  private readonly endpoint: string;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: SenderOptions) {
    const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
    this.endpoint = new URL('vuln', base).href;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Sends a batch; never throws for an HTTP or network outcome, only reports it. */
  async send(batch: Batch): Promise<BatchReport> {
    const report = emptyReport();
    await this.sendInto(batch, report);
    return report;
  }

  private async sendInto(batch: Batch, report: BatchReport): Promise<void> {
    const ids = batch.findings.map((finding) => finding.VulnID);
    let result: CallResult;
    try {
      result = await this.post(batch.findings, report);
    } catch (error) {
      report.findings += ids.length;
      const reason =
        error instanceof TransientError ? error.message : `request failed (${(error as Error).message.slice(0, 200)})`;
      report.failed.push(
        ...ids.map((vulnId) => ({ vulnId, reason: `${reason} after ${this.retry.attempts} attempts` })),
      );
      return;
    }
    if (result.status === 200) {
      const body = result.json() as Partial<Record<'created' | 'updated' | 'unchanged' | 'stale' | 'reopened', number>>;
      report.findings += ids.length;
      for (const count of ['created', 'updated', 'unchanged', 'stale', 'reopened'] as const)
        report[count] += body[count] ?? 0;
      return;
    }
    if (result.status === 413) {
      if (batch.findings.length === 1) {
        report.findings += 1;
        report.rejected.push({
          vulnId: ids[0] as string,
          reason: `too large for the API even alone (413, ${batch.bytes} bytes)`,
        });
        return;
      }
      report.splits += 1;
      for (const half of splitBatch(batch, this.options.envelope)) await this.sendInto(half, report);
      return;
    }
    if (result.status === 400) {
      const issues = issuesOf(result);
      const named = new Map<number, string>();
      for (const issue of issues) {
        if (
          typeof issue.index === 'number' &&
          issue.index >= 0 &&
          issue.index < ids.length &&
          !named.has(issue.index)
        ) {
          named.set(issue.index, `${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
        }
      }
      // Issues that name findings reject those; the rest of the batch was refused with them, so it is sent again.
      if (named.size > 0 && named.size === new Set(issues.map((issue) => issue.index)).size) {
        report.findings += named.size;
        for (const [index, reason] of named)
          report.rejected.push({ vulnId: ids[index] as string, reason: `400 ${reason}` });
        const rest = batch.findings.filter((_, index) => !named.has(index));
        if (rest.length > 0)
          await this.sendInto(
            { findings: rest, bytes: Buffer.byteLength(requestBody(rest, this.options.envelope)) },
            report,
          );
        return;
      }
      report.findings += ids.length;
      report.rejected.push(...ids.map((vulnId) => ({ vulnId, reason: `400 ${messageOf(result)}` })));
      return;
    }
    report.findings += ids.length;
    if (result.status === 403) {
      const message = messageOf(result);
      const reason = `403 ${message}${message === 'Forbidden' ? ': this certificate may not write findings of this org' : ''}`;
      report.rejected.push(...ids.map((vulnId) => ({ vulnId, reason })));
      return;
    }
    // A scan run that does not exist (404) or is no longer open (409): sending again cannot change that.
    if (result.status === 404 || result.status === 409) {
      const reason = `${result.status} ${messageOf(result)}: ${result.status === 404 ? 'no such scan run' : 'the scan run is closing or closed'}`;
      report.rejected.push(...ids.map((vulnId) => ({ vulnId, reason })));
      return;
    }
    report.failed.push(...ids.map((vulnId) => ({ vulnId, reason: `HTTP ${result.status}: ${messageOf(result)}` })));
  }

  private post(findings: Finding[], report: BatchReport): Promise<CallResult> {
    return callWithRetry(
      this.options,
      this.retry,
      {
        path: this.endpoint,
        method: 'POST',
        body: requestBody(findings, this.options.envelope),
        headers: { 'Content-Type': 'application/json' },
      },
      () => (report.requests += 1),
    );
  }
}

/**
 * One API call over mutual TLS, retried on 429, 503, 504 and network errors with exponential backoff
 * and full jitter, waiting at least what `Retry-After` asks. Any other answer is returned as it is.
 */
export function callWithRetry(
  target: Pick<SenderOptions, 'identity' | 'caPem' | 'timeoutMs'>,
  retry: RetryPolicy,
  request: Pick<CallOptions, 'path' | 'method' | 'body' | 'headers'> & { path: string },
  onAttempt: () => void = () => undefined,
): Promise<CallResult> {
  return backOff(
    async () => {
      onAttempt();
      let result: CallResult;
      try {
        result = await call(request.path, {
          ...request,
          identity: target.identity,
          userAgent: userAgent('push'),
          ...(target.caPem === undefined ? {} : { caPem: target.caPem }),
          timeoutMs: target.timeoutMs ?? 35_000,
        });
      } catch (error) {
        throw new TransientError(`network error (${(error as Error).message.slice(0, 200)})`, undefined);
      }
      if (RETRIED_STATUSES.has(result.status))
        throw new TransientError(
          `HTTP ${result.status}: ${messageOf(result)}`,
          retryAfterMs(result.headers['retry-after']),
        );
      return result;
    },
    {
      numOfAttempts: retry.attempts,
      startingDelay: retry.baseDelayMs,
      maxDelay: retry.maxDelayMs,
      timeMultiple: 2,
      jitter: 'full',
      retry: async (error: unknown) => {
        if (!(error instanceof TransientError)) return false;
        // The backoff's own (jittered) delay follows; together they wait at least what the server asked.
        if (error.retryAfterMs !== undefined) await sleep(Math.min(error.retryAfterMs, retry.maxRetryAfterMs));
        return true;
      },
    },
  );
}
