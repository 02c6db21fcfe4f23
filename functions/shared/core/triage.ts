/**
 * Triage: the people-owned fields of a finding (docs/finding-lifecycle.md, "Triage"). A scan owns the
 * detail and the status; people own the workflow state, the note and a risk acceptance. Pure rules:
 * the request's shape, each item's validity, and what a read shows (an expired acceptance is NEW).
 */
import * as z from 'zod';
import { orgSchema, vulnIdSchema } from './finding-schema';
import type { FieldIssue } from './errors';

export const WORKFLOW_STATES = ['NEW', 'ACKNOWLEDGED', 'FALSE_POSITIVE', 'RISK_ACCEPTED'] as const;
export type WorkflowState = (typeof WORKFLOW_STATES)[number];

/** The states of what there is to fix: GET /vuln's default answer (with status OPEN). */
export const ACTIONABLE_STATES: readonly WorkflowState[] = ['NEW', 'ACKNOWLEDGED'];

/** At most this many findings per triage request, as Security Hub's BatchUpdateFindings. */
export const MAX_TRIAGE_UPDATES = 100;
export const MAX_NOTE_LENGTH = 1024;
export const MAX_JUSTIFICATION_LENGTH = 1024;
/** A risk acceptance ends at most this far ahead of the request. */
export const MAX_ACCEPTANCE_DAYS = 366;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Per-item refusals of a triage (inside its 200 answer), named as BatchUpdateFindings' UnprocessedFindings
 * name theirs; docs/errors.md is generated from this table too.
 */
export const UNPROCESSED_CODES = {
  NotFound: 'no finding with this vulnId in the org (nothing written)',
  ConflictError:
    "expectedVersion is not the finding's version: another write came first (nothing written; read it again)",
  InvalidInput:
    'the update breaks the rules: unknown workflow, a RISK_ACCEPTED without justification or expiresAt, an expiry past or more than 366 days ahead, justification or expiresAt on another state, a vulnId repeated in the request (nothing written)',
  ServiceUnavailable: 'DynamoDB kept failing for this item after the retries (nothing written; retry this item)',
} as const;
export type UnprocessedCode = keyof typeof UNPROCESSED_CODES;

/** The people-owned fields as stored on a finding (none of them is ever written by a scan). */
export interface TriageFields {
  /** Absent: NEW. */
  Workflow?: WorkflowState;
  Note?: string;
  Justification?: string;
  /** The end of a risk acceptance (canonical ISO 8601 UTC); from then on the finding reads as NEW. */
  AcceptedUntil?: string;
  TriagedAt?: string;
  /** Counts every write of the finding (scan or triage): what `expectedVersion` is compared with. */
  Version?: number;
}

/** The request envelope: an org and 1 to 100 updates, each an object (items are checked one by one). */
const envelopeSchema = z.strictObject({
  org: orgSchema,
  updates: z
    .array(z.unknown(), { error: 'must be a list of updates' })
    .min(1, 'must hold 1 to 100 updates')
    .max(MAX_TRIAGE_UPDATES, 'must hold 1 to 100 updates'),
});

const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

const itemSchema = z.strictObject({
  vulnId: vulnIdSchema,
  workflow: z.enum(WORKFLOW_STATES, { message: `must be one of ${WORKFLOW_STATES.join(', ')}` }),
  // A note replaces the one stored; an empty note removes it; none leaves it as it is.
  note: z
    .string({ error: 'must be a string' })
    .trim()
    .max(MAX_NOTE_LENGTH, `must be at most ${MAX_NOTE_LENGTH} characters`)
    .optional(),
  justification: text(MAX_JUSTIFICATION_LENGTH).optional(),
  expiresAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  expectedVersion: z.number({ error: 'must be a number' }).int('must be an integer').min(0).optional(),
});

/** One valid update, ready to write. */
export interface TriageUpdate {
  vulnId: string;
  workflow: WorkflowState;
  /** undefined: keep the stored note; '': remove it. */
  note: string | undefined;
  justification: string | undefined;
  /** Canonical ISO 8601 UTC, for RISK_ACCEPTED only. */
  acceptedUntil: string | undefined;
  expectedVersion: number | undefined;
}

export interface UnprocessedItem {
  vulnId: string | null;
  code: UnprocessedCode;
  message: string;
}

export interface ParsedTriageRequest {
  org: string;
  /** Valid updates with their index in the request. */
  updates: { index: number; update: TriageUpdate }[];
  /** Items refused before any write (InvalidInput). */
  invalid: { index: number; item: UnprocessedItem }[];
}

/** Names of our own schema only: a key the client made up is never repeated back. */
const KNOWN_ITEM_FIELDS: ReadonlySet<string> = new Set(Object.keys(itemSchema.shape));

function itemMessage(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown field (allowed: ${[...KNOWN_ITEM_FIELDS].join(', ')})`;
      const field = issue.path.map(String).join('.');
      if (issue.path.length === 0) return 'must be an object';
      return `${KNOWN_ITEM_FIELDS.has(field) ? field : 'field'} ${issue.message}`;
    })
    .join('; ');
}

/** The rules across fields: an acceptance needs a justification and an expiry within a year; nothing else takes them. */
function crossFieldIssue(item: z.infer<typeof itemSchema>, now: Date): string | undefined {
  if (item.workflow !== 'RISK_ACCEPTED') {
    if (item.justification !== undefined || item.expiresAt !== undefined)
      return 'justification and expiresAt are for RISK_ACCEPTED only';
    return undefined;
  }
  if (item.justification === undefined) return 'justification is required for RISK_ACCEPTED';
  if (item.expiresAt === undefined) return 'expiresAt is required for RISK_ACCEPTED';
  const expires = Date.parse(item.expiresAt);
  if (expires <= now.getTime()) return 'expiresAt must be in the future';
  if (expires > now.getTime() + MAX_ACCEPTANCE_DAYS * DAY_MS)
    return `expiresAt must be at most ${MAX_ACCEPTANCE_DAYS} days ahead`;
  return undefined;
}

/**
 * Parses a triage request body. The envelope (org, 1 to 100 updates) is all or nothing: a bad one is
 * a ValidationError's issues. Each item stands alone: a bad item is unprocessed (InvalidInput) and
 * never blocks the others. A vulnId repeated in the request is applied once (its first occurrence);
 * the repeats are refused, since two decisions about one finding in one request contradict.
 */
export function parseTriageRequest(
  body: unknown,
  now: Date,
): { ok: true; request: ParsedTriageRequest } | { ok: false; issues: FieldIssue[] } {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    return {
      ok: false,
      issues: envelope.error.issues.map((issue) => {
        if (issue.code === 'unrecognized_keys')
          return { index: null, path: '', message: 'unknown field (allowed: org, updates)' };
        if (issue.path.length === 0)
          return { index: null, path: '', message: 'must be an object with org and updates' };
        const path = String(issue.path[0]);
        return {
          index: null,
          path: path === 'org' || path === 'updates' ? path : '',
          message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
        };
      }),
    };
  }
  const seen = new Set<string>();
  const request: ParsedTriageRequest = { org: envelope.data.org, updates: [], invalid: [] };
  envelope.data.updates.forEach((raw, index) => {
    const candidate = raw as { vulnId?: unknown } | null;
    const rawId = typeof candidate?.vulnId === 'string' && vulnIdSchema.safeParse(candidate.vulnId).success;
    const vulnId = rawId ? (candidate?.vulnId as string) : null;
    const refuse = (message: string) =>
      request.invalid.push({ index, item: { vulnId, code: 'InvalidInput', message } });
    const parsed = itemSchema.safeParse(raw);
    if (!parsed.success) return refuse(itemMessage(parsed.error.issues));
    const crossField = crossFieldIssue(parsed.data, now);
    if (crossField !== undefined) return refuse(crossField);
    if (seen.has(parsed.data.vulnId)) return refuse('vulnId is repeated in the request');
    seen.add(parsed.data.vulnId);
    request.updates.push({
      index,
      update: {
        vulnId: parsed.data.vulnId,
        workflow: parsed.data.workflow,
        note: parsed.data.note,
        justification: parsed.data.justification,
        acceptedUntil: parsed.data.expiresAt === undefined ? undefined : new Date(parsed.data.expiresAt).toISOString(),
        expectedVersion: parsed.data.expectedVersion,
      },
    });
  });
  return { ok: true, request };
}

/**
 * The workflow state a finding has now: none stored is NEW, and a risk acceptance whose expiry has
 * passed is NEW from that instant (no background job: every read decides).
 */
export function effectiveWorkflow(finding: Pick<TriageFields, 'Workflow' | 'AcceptedUntil'>, now: Date): WorkflowState {
  const stored = finding.Workflow ?? 'NEW';
  if (
    stored === 'RISK_ACCEPTED' &&
    (finding.AcceptedUntil === undefined || Date.parse(finding.AcceptedUntil) <= now.getTime())
  )
    return 'NEW';
  return stored;
}

/** What a read shows of a finding: its effective workflow state and its version (0 before its first versioned write). */
export function presentTriage<T extends TriageFields>(
  finding: T,
  now: Date,
): T & { Workflow: WorkflowState; Version: number } {
  return { ...finding, Workflow: effectiveWorkflow(finding, now), Version: finding.Version ?? 0 };
}

/**
 * What a FIXED finding seen again does to its workflow: ACKNOWLEDGED goes back to NEW (it was fixed,
 * it is back: someone must look again, as Security Hub's NOTIFIED or RESOLVED go back to NEW);
 * FALSE_POSITIVE and RISK_ACCEPTED stay (an acceptance until its expiry).
 */
export function workflowOnReopen(stored: WorkflowState | undefined): WorkflowState | undefined {
  return stored === 'ACKNOWLEDGED' ? 'NEW' : undefined;
}
