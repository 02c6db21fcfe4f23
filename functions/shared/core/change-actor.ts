/**
 * Who made a finding's latest write, kept on the finding by the same UpdateItem that changes it (attribute `By`),
 * so a stream record's new image says who, through which request or run, without a second request on the ingest
 * path (issue 16). Short keys keep it small: the reference finding stays under 1 KB, one write unit.
 */
export const ACTOR_ATTRIBUTE = 'By';

/** As stored: s subject DN, k issuing CA's key (SPKI SHA-256, when registered), n serial, r request id, u run id. */
export interface StoredActor {
  s?: string;
  k?: string;
  n?: string;
  r?: string;
  u?: string;
}

/** Who made a change, as a history entry names it. */
export interface ChangeActor {
  subject?: string;
  issuerKey?: string;
  serialNumber?: string;
  requestId?: string;
  runId?: string;
}

/** The compact form written on the finding (absent parts left out). */
export function storedActor(actor: ChangeActor): StoredActor {
  const stored: StoredActor = {};
  if (actor.subject) stored.s = actor.subject;
  if (actor.issuerKey) stored.k = actor.issuerKey;
  if (actor.serialNumber) stored.n = actor.serialNumber;
  if (actor.requestId) stored.r = actor.requestId;
  if (actor.runId) stored.u = actor.runId;
  return stored;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The readable form of a stored actor (anything that is not a string is left out). */
export function actorFromStored(stored: unknown): ChangeActor {
  const value = (stored !== null && typeof stored === 'object' ? stored : {}) as Record<string, unknown>;
  const actor: ChangeActor = {};
  const subject = text(value.s);
  const issuerKey = text(value.k);
  const serialNumber = text(value.n);
  const requestId = text(value.r);
  const runId = text(value.u);
  if (subject) actor.subject = subject;
  if (issuerKey) actor.issuerKey = issuerKey;
  if (serialNumber) actor.serialNumber = serialNumber;
  if (requestId) actor.requestId = requestId;
  if (runId) actor.runId = runId;
  return actor;
}

/** The actor a triage records (`TriagedBy`: subject, issuerKey, serialNumber, requestId), in the same readable form. */
export function actorFromTriagedBy(triagedBy: unknown): ChangeActor {
  const value = (triagedBy !== null && typeof triagedBy === 'object' ? triagedBy : {}) as Record<string, unknown>;
  return actorFromStored({ s: value.subject, k: value.issuerKey, n: value.serialNumber, r: value.requestId });
}

/** A finding without its latest writer (`By`): what a listing shows. */
export function withoutWriter<T extends object>(finding: T): T {
  const shown = { ...finding } as T & { [ACTOR_ATTRIBUTE]?: unknown };
  delete shown[ACTOR_ATTRIBUTE];
  return shown;
}
