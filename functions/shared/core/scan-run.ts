/**
 * Scan runs (docs/finding-lifecycle.md): a run belongs to one org and one scanner and carries the
 * scan's own time. Its batches are counted; completing it closes what it covered. Pure schemas and
 * rules; the runs repository stores them.
 */
import * as z from 'zod';
import { toIsoDate } from './dates';
import { orgSchema } from './finding-schema';
export { RUN_ID_PATTERN, runIdSchema } from './finding-schema';
import { emptyCounts, type WriteCounts } from './lifecycle';

/** The most assets one run may cover: the run item (assets included) stays far below DynamoDB's 400 KB item limit. */
export const MAX_RUN_ASSETS = 1000;

export const RUN_STATES = ['open', 'closing', 'closed'] as const;
export type RunState = (typeof RUN_STATES)[number];

const SCANNER = /^[a-z0-9][a-z0-9._-]*$/;

/** An ISO 8601 instant with a time zone, stored in one canonical form so times compare as instants. */
const instantSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .max(40, { error: 'must be an ISO 8601 date-time with a time zone', abort: true })
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, {
    error: 'must be an ISO 8601 date-time with a time zone',
    abort: true,
  })
  .refine(
    (value) => toIsoDate(value.slice(0, 10)) !== null && Number.isFinite(Date.parse(value)),
    'must be a real date-time',
  )
  .transform((value) => new Date(value).toISOString());

/** POST /scans body. */
export const runRequestSchema = z.strictObject({
  org: orgSchema,
  scanner: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .max(64, { error: 'must be at most 64 characters', abort: true })
    .regex(SCANNER, 'must be lower-case letters, digits and . _ -'),
  scannedAt: instantSchema,
  scope: z
    .strictObject({
      assets: z
        .array(
          z
            .string()
            .trim()
            .min(1, 'must not be empty')
            .max(255, 'must be at most 255 characters')
            .transform((asset) => asset.toLowerCase()),
        )
        .min(1, 'must hold at least one asset')
        .max(MAX_RUN_ASSETS, `must hold at most ${MAX_RUN_ASSETS} assets`),
    })
    .optional(),
});
export type RunRequest = z.infer<typeof runRequestSchema>;

/** Who opened a run: the certificate itself, by the SHA-256 of its DER (authz-policy.ts openerMayRead). */
export interface RunOpener {
  ou: string;
  serialNumber: string;
  /** The opener's certificate; absent on runs opened by earlier versions, which then only GET-granted users read. */
  certificateSha256?: string | undefined;
  /** SPKI SHA-256 of the issuing CA when the authz table names it: for the audit log, not for recognising the opener. */
  issuerKey?: string | undefined;
  /** The opener's subject DN, named by the history of the findings the run closes (absent on earlier runs). */
  subject?: string | undefined;
}

export interface RunCounts extends WriteCounts {
  batches: number;
  received: number;
  fixed: number;
}

export interface ScanRun {
  runId: string;
  org: string;
  scanner: string;
  scannedAt: string;
  state: RunState;
  openedAt: string;
  opener: RunOpener;
  /** Assets the run reported at least one finding for, plus its scope.assets. */
  assets: string[];
  scopeAssets: string[];
  counts: RunCounts;
  closingStartedAt?: string | undefined;
  closedAt?: string | undefined;
}

export const emptyRunCounts = (): RunCounts => ({ batches: 0, received: 0, ...emptyCounts(), fixed: 0 });

export function newRun(runId: string, request: RunRequest, opener: RunOpener, now: Date): ScanRun {
  const scopeAssets = [...new Set(request.scope?.assets ?? [])].sort();
  return {
    runId,
    org: request.org,
    scanner: request.scanner,
    scannedAt: request.scannedAt,
    state: 'open',
    openedAt: now.toISOString(),
    opener,
    assets: scopeAssets,
    scopeAssets,
    counts: emptyRunCounts(),
  };
}

/** The receipt GET /scans/{runId} answers: never the opener's identity. */
export function receiptOf(run: ScanRun) {
  return {
    runId: run.runId,
    org: run.org,
    scanner: run.scanner,
    scannedAt: run.scannedAt,
    state: run.state,
    openedAt: run.openedAt,
    ...(run.closedAt === undefined ? {} : { closedAt: run.closedAt }),
    counts: run.counts,
    assets: [...run.assets].sort(),
  };
}
export type Receipt = ReturnType<typeof receiptOf>;

/** How long a close may look stuck before completing again starts another pass (passes are safe to repeat). */
export const CLOSE_RESTART_AFTER_MS = 15 * 60 * 1000;

/**
 * What completing does: an open run starts closing; a closing run whose pass looks stuck (its start is
 * older than CLOSE_RESTART_AFTER_MS) starts another pass; anything else is already under way or done.
 */
export function completionStep(
  run: Pick<ScanRun, 'state' | 'closingStartedAt'>,
  now: Date,
): 'start' | 'restart' | 'nothing' {
  if (run.state === 'open') return 'start';
  if (
    run.state === 'closing' &&
    (run.closingStartedAt === undefined || now.getTime() - Date.parse(run.closingStartedAt) > CLOSE_RESTART_AFTER_MS)
  )
    return 'restart';
  return 'nothing';
}

/** The assets of a batch that the run does not cover yet, and whether taking them would go over the limit. */
export function newAssets(
  run: Pick<ScanRun, 'assets'>,
  batchAssets: Iterable<string>,
): { added: string[]; overLimit: boolean } {
  const known = new Set(run.assets);
  const added = [...new Set(batchAssets)].filter((asset) => !known.has(asset)).sort();
  return { added, overLimit: known.size + added.length > MAX_RUN_ASSETS };
}

/**
 * The close-run execution's name for a pass: the run id and the instant the pass began (as the run records it),
 * so every start of one pass carries the same name and Step Functions starts it once (a STANDARD execution's
 * name is unique for 90 days: StartExecution, Step Functions API Reference), while a later pass gets its own.
 * A UUID, a dash and epoch milliseconds: 50 characters of the allowed ones, within the 80 the API takes.
 */
export function closeExecutionName(runId: string, closingStartedAt: string): string {
  return `${runId}-${Date.parse(closingStartedAt)}`;
}
