/**
 * Groups findings into request bodies the deployed API accepts: at most `maxFindings` per batch
 * (the API's 100) and at most `maxBytes` of JSON (the WAF size rule's limit, 64 KB by default), with
 * any envelope fields (a later scan run's `runId`) counted in.
 */
import type { Finding } from '../../functions/shared/core/finding-schema';

export interface BatchLimits {
  maxFindings: number;
  maxBytes: number;
  /** Fields sent next to `findings` in every body. */
  envelope?: Record<string, unknown> | undefined;
}

export interface Batch {
  findings: Finding[];
  /** Size of the request body in bytes. */
  bytes: number;
}

export const requestBody = (findings: Finding[], envelope: Record<string, unknown> = {}) =>
  JSON.stringify({ ...envelope, findings });

/** Bytes of a body with no finding; each finding adds its own JSON and a comma after the first. */
const emptyBodyBytes = (envelope: Record<string, unknown> | undefined) => Buffer.byteLength(requestBody([], envelope));

/**
 * Batches in input order. A finding that alone is over `maxBytes` still comes as a batch of one
 * (its `bytes` says so): the sender decides what to do with it, nothing is dropped silently.
 */
export async function* batchesOf(
  findings: AsyncIterable<Finding> | Iterable<Finding>,
  limits: BatchLimits,
): AsyncGenerator<Batch> {
  const empty = emptyBodyBytes(limits.envelope);
  let current: Finding[] = [];
  let bytes = empty;
  for await (const finding of findings) {
    const size = Buffer.byteLength(JSON.stringify(finding));
    const added = size + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= limits.maxFindings || bytes + added > limits.maxBytes)) {
      yield { findings: current, bytes };
      current = [];
      bytes = empty;
    }
    bytes += size + (current.length > 0 ? 1 : 0);
    current.push(finding);
  }
  if (current.length > 0) yield { findings: current, bytes };
}

/** Two halves of a batch (the answer to a 413), each with its exact size. */
export function splitBatch(batch: Batch, envelope?: Record<string, unknown>): [Batch, Batch] {
  const middle = Math.ceil(batch.findings.length / 2);
  const halves = [batch.findings.slice(0, middle), batch.findings.slice(middle)];
  const [first, second] = halves.map((findings) => ({
    findings,
    bytes: Buffer.byteLength(requestBody(findings, envelope)),
  }));
  return [first as Batch, second as Batch];
}
