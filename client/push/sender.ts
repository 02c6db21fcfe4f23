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
import { call, type CallResult, type ClientIdentity } from '../mtls';
import { requestBody, splitBatch, type Batch } from './batches';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest `Retry-After` honoured; a longer one counts as this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 20_000, maxRetryAfterMs: 60_000 };

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
  rejected: FindingProblem[];
  failed: FindingProblem[];
  /** Requests made, retries and halves included. */
  requests: number;
  /** Times a 413 split a batch. */
  splits: number;
}

const emptyReport = (): BatchReport => ({ findings: 0, created: 0, updated: 0, rejected: [], failed: [], requests: 0, splits: 0 });

export function addReports(into: BatchReport, other: BatchReport): BatchReport {
  into.findings += other.findings;
  into.created += other.created;
  into.updated += other.updated;
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

function messageOf(result: CallResult): string {
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
      const reason = error instanceof TransientError ? error.message : `request failed (${(error as Error).message.slice(0, 200)})`;
      report.failed.push(...ids.map((vulnId) => ({ vulnId, reason: `${reason} after ${this.retry.attempts} attempts` })));
      return;
    }
    if (result.status === 200) {
      const body = result.json() as { created?: number; updated?: number };
      report.findings += ids.length;
      report.created += body.created ?? 0;
      report.updated += body.updated ?? 0;
      return;
    }
    if (result.status === 413) {
      if (batch.findings.length === 1) {
        report.findings += 1;
        report.rejected.push({ vulnId: ids[0] as string, reason: `too large for the API even alone (413, ${batch.bytes} bytes)` });
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
        if (typeof issue.index === 'number' && issue.index >= 0 && issue.index < ids.length && !named.has(issue.index)) {
          named.set(issue.index, `${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
        }
      }
      // Issues that name findings reject those; the rest of the batch was refused with them, so it is sent again.
      if (named.size > 0 && named.size === new Set(issues.map((issue) => issue.index)).size) {
        report.findings += named.size;
        for (const [index, reason] of named) report.rejected.push({ vulnId: ids[index] as string, reason: `400 ${reason}` });
        const rest = batch.findings.filter((_, index) => !named.has(index));
        if (rest.length > 0) await this.sendInto({ findings: rest, bytes: Buffer.byteLength(requestBody(rest, this.options.envelope)) }, report);
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
    report.failed.push(...ids.map((vulnId) => ({ vulnId, reason: `HTTP ${result.status}: ${messageOf(result)}` })));
  }

  private post(findings: Finding[], report: BatchReport): Promise<CallResult> {
    const body = requestBody(findings, this.options.envelope);
    return backOff(
      async () => {
        report.requests += 1;
        let result: CallResult;
        try {
          result = await call(this.endpoint, {
            path: this.endpoint,
            method: 'POST',
            body,
            headers: { 'Content-Type': 'application/json' },
            identity: this.options.identity,
            ...(this.options.caPem === undefined ? {} : { caPem: this.options.caPem }),
            timeoutMs: this.options.timeoutMs ?? 35_000,
          });
        } catch (error) {
          throw new TransientError(`network error (${(error as Error).message.slice(0, 200)})`, undefined);
        }
        if (RETRIED_STATUSES.has(result.status)) throw new TransientError(`HTTP ${result.status}: ${messageOf(result)}`, retryAfterMs(result.headers['retry-after']));
        return result;
      },
      {
        numOfAttempts: this.retry.attempts,
        startingDelay: this.retry.baseDelayMs,
        maxDelay: this.retry.maxDelayMs,
        timeMultiple: 2,
        jitter: 'full',
        retry: async (error: unknown) => {
          if (!(error instanceof TransientError)) return false;
          // The backoff's own (jittered) delay follows; together they wait at least what the server asked.
          if (error.retryAfterMs !== undefined) await sleep(Math.min(error.retryAfterMs, this.retry.maxRetryAfterMs));
          return true;
        },
      },
    );
  }
}
