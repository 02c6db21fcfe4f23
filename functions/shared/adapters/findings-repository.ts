import {
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { OPTIONAL_FINDING_FIELDS } from '../core/finding-schema';
import { lastPerKey, type NormalizedFinding } from '../core/normalize';
import type { Severity } from '../core/severity';
import {
  decideWrite,
  emptyCounts,
  type FindingStatus,
  type ScanContext,
  type StoredFinding,
  type WriteCounts,
  type WriteDecision,
} from '../core/lifecycle';
import { forEachBounded, WRITE_CONCURRENCY } from '../core/concurrency';
import { workflowOnReopen, type WorkflowState } from '../core/triage';
import { ACTOR_ATTRIBUTE, storedActor } from '../core/change-actor';
import { classifyAwsError } from './aws-errors';
import { all, allOf, anyOf, render, type Condition } from './condition';
import { conditionalUpdateInput } from './conditional-update';
import { dynamoDbClient } from './dynamodb-client';

/** A finding's Status is OPEN, FIXED or absent (stored before scan runs: OPEN), so "open" is "not FIXED" (`:fixed`). */
const NOT_FIXED = 'NOT #Status = :fixed';

/** Conditional writes of one finding before giving up to a retry of the whole step (another writer kept winning). */
const MAX_WRITE_ATTEMPTS = 4;

/** Capacity units DynamoDB reported for a batch's requests (ReturnConsumedCapacity TOTAL; successful requests only). */
export interface ConsumedUnits {
  readUnits: number;
  writeUnits: number;
}

const keyOf = (finding: Pick<NormalizedFinding, 'Org' | 'VulnID'>) =>
  marshall({ Org: finding.Org, VulnID: finding.VulnID });

async function readFinding(
  tableName: string,
  finding: NormalizedFinding,
  units: ConsumedUnits,
): Promise<StoredFinding | undefined> {
  const result = await dynamoDbClient.send(
    new GetItemCommand({
      TableName: tableName,
      Key: keyOf(finding),
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  units.readUnits += result.ConsumedCapacity?.CapacityUnits ?? 0;
  return result.Item ? (unmarshall(result.Item) as StoredFinding) : undefined;
}

/**
 * The condition under which the plain upsert (fields, LastSeen, OPEN, FirstSeen kept) is exactly what
 * `decideWrite` decides: nothing stored (created), or an OPEN finding (no Status counts as OPEN) last
 * seen at or before the scan (updated, or unchanged when the time and the detail are the same: the
 * upsert then writes back what is stored, plus the run that saw it). Every other stored state, a FIXED
 * finding (reopen or stale) or one seen by a newer scan (stale), fails it. Times are compared as
 * strings, which orders instants because every stored time is the canonical UTC form of
 * `Date.prototype.toISOString` (the scan time is made canonical in `writeFindings`; a run's
 * `scannedAt` is stored canonical, scan-run.ts).
 */
function upsertCondition(names: Record<string, string>, values: Record<string, unknown>): string {
  Object.assign(names, { '#VulnID': 'VulnID', '#Status': 'Status', '#LastSeen': 'LastSeen' });
  values[':fixed'] = 'FIXED';
  // Absent, or OPEN (NOT FIXED: a Status is OPEN, FIXED or absent) and last seen at or before the scan.
  return render(anyOf(all('attribute_not_exists(#VulnID)'), all(NOT_FIXED, '#LastSeen <= :scannedAt')));
}

/**
 * The condition that the stored finding is still the one a decision was taken on: absent for a
 * create, else the same LastSeen and Status (the two things a decision depends on besides the detail,
 * which only this writer's own scan time may change).
 */
function unchangedSince(
  stored: StoredFinding | undefined,
  names: Record<string, string>,
  values: Record<string, unknown>,
): string {
  names['#VulnID'] = 'VulnID';
  if (stored === undefined) return 'attribute_not_exists(#VulnID)';
  names['#LastSeen'] = 'LastSeen';
  names['#Status'] = 'Status';
  names['#Version'] = 'Version';
  values[':storedLastSeen'] = stored.LastSeen;
  // The same Version too: a reopen decides the workflow from what it read, and a triage meanwhile moves the Version.
  const version =
    stored.Version === undefined
      ? 'attribute_not_exists(#Version)'
      : ((values[':storedVersion'] = stored.Version), '#Version = :storedVersion');
  if (stored.Status === undefined)
    return `attribute_exists(#VulnID) AND #LastSeen = :storedLastSeen AND attribute_not_exists(#Status) AND ${version}`;
  values[':storedStatus'] = stored.Status;
  return `attribute_exists(#VulnID) AND #LastSeen = :storedLastSeen AND #Status = :storedStatus AND ${version}`;
}

/**
 * The update a decision needs: the report's fields (whatever fields the finding carries: the builder
 * knows none by name), the scan's time, OPEN, the Version counted, and the reopening when there is
 * one. The people-owned fields (core/triage.ts) are never among them (the finding schema is strict and
 * knows none of them), except that a reopening takes an ACKNOWLEDGED finding back to NEW, decided on
 * the stored item the write is conditioned on (`unchangedSince`).
 */
function updateFor(
  finding: NormalizedFinding,
  decision: Pick<WriteDecision, 'outcome' | 'reopen'>,
  scan: ScanContext,
  names: Record<string, string>,
  values: Record<string, unknown>,
  stored?: StoredFinding,
): string {
  Object.assign(names, { '#Version': 'Version', '#By': ACTOR_ATTRIBUTE });
  Object.assign(values, { ':one': 1, ':zero': 0, ':by': storedActor({ ...scan.actor, runId: scan.runId }) });
  // Every write says who made it (the stream's new image carries it into the finding's history).
  const version = '#Version = if_not_exists(#Version, :zero) + :one, #By = :by';
  if (decision.outcome === 'unchanged') {
    names['#LastRunId'] = 'LastRunId';
    values[':runId'] = scan.runId;
    return `SET #LastRunId = :runId, ${version}`;
  }
  Object.assign(names, { '#FirstSeen': 'FirstSeen', '#LastSeen': 'LastSeen', '#Status': 'Status' });
  Object.assign(values, { ':scannedAt': scan.scannedAt, ':open': 'OPEN' });
  const sets = [
    '#FirstSeen = if_not_exists(#FirstSeen, :scannedAt)',
    '#LastSeen = :scannedAt',
    '#Status = :open',
    version,
  ];
  for (const [name, value] of Object.entries(finding)) {
    if (name === 'Org' || name === 'VulnID') continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  if (scan.runId !== undefined) {
    names['#LastRunId'] = 'LastRunId';
    values[':runId'] = scan.runId;
    sets.push('#LastRunId = :runId');
  }
  if (decision.reopen) {
    Object.assign(names, { '#ReopenedAt': 'ReopenedAt', '#TimesReopened': 'TimesReopened' });
    sets.push('#ReopenedAt = :scannedAt', '#TimesReopened = if_not_exists(#TimesReopened, :zero) + :one');
    const workflow = workflowOnReopen(stored?.Workflow);
    if (workflow !== undefined) {
      names['#Workflow'] = 'Workflow';
      values[':reopenedWorkflow'] = workflow;
      sets.push('#Workflow = :reopenedWorkflow');
    }
  }
  // An optional field the new report no longer carries is removed: a re-scan replaces the finding's detail.
  const removes: string[] = OPTIONAL_FINDING_FIELDS.filter((name) => !(name in finding));
  for (const name of removes) names[`#${name}`] = name;
  return `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.map((name) => `#${name}`).join(', ')}` : ''}`;
}

/** What a conditional write found: applied (and the item before it), or refused (and the item, when DynamoDB said). */
type WriteAttempt =
  | { applied: true; before: StoredFinding | undefined }
  | { applied: false; known: true; current: StoredFinding | undefined; error: ConditionalCheckFailedException }
  | { applied: false; known: false; error: ConditionalCheckFailedException };

/**
 * One conditional UpdateItem. `ReturnValues: ALL_OLD` gives the item it replaced (none: it created
 * one); `ReturnValuesOnConditionCheckFailure: ALL_OLD` gives, on a refusal, the item that refused it,
 * so no read is needed to decide again. Neither costs capacity beyond the write ("UpdateItem", Amazon
 * DynamoDB API Reference: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html).
 * A server that ignores the latter (older DynamoDB-compatible servers) answers the refusal without
 * the item: the caller then reads it.
 */
async function conditionalWrite(
  tableName: string,
  finding: NormalizedFinding,
  update: string,
  condition: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
  units: ConsumedUnits,
): Promise<WriteAttempt> {
  try {
    const result = await dynamoDbClient.send(
      new UpdateItemCommand(
        conditionalUpdateInput({
          tableName,
          key: { Org: finding.Org, VulnID: finding.VulnID },
          update,
          condition,
          names,
          values,
        }),
      ),
    );
    units.writeUnits += result.ConsumedCapacity?.CapacityUnits ?? 0;
    return { applied: true, before: result.Attributes ? (unmarshall(result.Attributes) as StoredFinding) : undefined };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // Every condition here holds for an absent item or requires a present one, so a refusal without the item is a server that does not return it.
    return error.Item
      ? { applied: false, known: true, current: unmarshall(error.Item) as StoredFinding, error }
      : { applied: false, known: false, error };
  }
}

/**
 * One finding, in one conditional UpdateItem for the common cases (new, updated, unchanged, stale):
 * the plain upsert on the condition that it is what the rules decide (`upsertCondition`), the
 * outcome read from the item it replaced. When the condition fails (a FIXED finding, a newer scan, or
 * a concurrent writer) the item that failed it comes back with the refusal; the rules decide on it
 * (core/lifecycle.ts) and a write conditioned on that item staying as it was follows only when one is
 * needed (a reopen). A stale report therefore costs one request and writes nothing. No transactions:
 * DynamoDB's conditional writes are enough, and dynalite has none.
 */
async function writeOne(
  tableName: string,
  finding: NormalizedFinding,
  scan: ScanContext,
  units: ConsumedUnits,
): Promise<WriteDecision> {
  let names: Record<string, string> = {};
  let values: Record<string, unknown> = {};
  const upsert = updateFor(finding, { outcome: 'updated', reopen: false }, scan, names, values);
  let attempt = await conditionalWrite(
    tableName,
    finding,
    upsert,
    upsertCondition(names, values),
    names,
    values,
    units,
  );
  if (attempt.applied) return decideWrite(attempt.before, finding, scan);
  for (let writes = 1; ; writes += 1) {
    const stored = attempt.known ? attempt.current : await readFinding(tableName, finding, units);
    const decision = decideWrite(stored, finding, scan);
    if (!decision.write) return decision;
    if (writes >= MAX_WRITE_ATTEMPTS) throw attempt.error;
    names = {};
    values = {};
    const update = updateFor(finding, decision, scan, names, values, stored);
    attempt = await conditionalWrite(
      tableName,
      finding,
      update,
      unchangedSince(stored, names, values),
      names,
      values,
      units,
    );
    if (attempt.applied) return decision;
  }
}

/**
 * Writes a batch under the lifecycle rules and counts what each finding became. Safe to repeat: the
 * same batch at the same scan time is `unchanged`, so the state machine may retry a batch that failed
 * half-way. A VulnID repeated in it (same Org) is written once, with its last occurrence's fields, and
 * counted once. `units` adds up the capacity DynamoDB reported.
 */
export async function writeFindings(
  tableName: string,
  findings: NormalizedFinding[],
  scan: ScanContext,
  units: ConsumedUnits = { readUnits: 0, writeUnits: 0 },
): Promise<WriteCounts> {
  const counts = emptyCounts();
  // One spelling per instant, so that stored times order as strings (upsertCondition).
  const canonical: ScanContext = { ...scan, scannedAt: new Date(scan.scannedAt).toISOString() };
  try {
    await forEachBounded(lastPerKey(findings), WRITE_CONCURRENCY, async (finding) => {
      const decision = await writeOne(tableName, finding, canonical, units);
      counts[decision.outcome] += 1;
      if (decision.reopen) counts.reopened += 1;
    });
  } catch (error) {
    throw classifyAwsError(error);
  }
  return counts;
}

export interface FindingsPage {
  items: StoredFinding[];
  /** VulnID of the last item read when more may follow. */
  lastVulnId: string | undefined;
}

/** Bounds the work of one GET when a filter skips many items. */
const MAX_QUERY_ROUNDS = 10;

export interface FindingsFilter {
  /** Any of these severities (`severity=` gives one, `minSeverity=` the ranks at or above it). */
  severities?: Severity[] | undefined;
  /** The normalized asset name. */
  asset?: string | undefined;
  /** A CVE id the finding's `Cves` contains. */
  cve?: string | undefined;
  /** The package name a finding's PackageName equals. */
  packageName?: string | undefined;
  /** true: KnownExploit is true; false: it is false or absent. */
  knownExploit?: boolean | undefined;
  /** OPEN (findings stored before scan runs, without a Status, count as OPEN) or FIXED; undefined for all. */
  status?: FindingStatus | undefined;
  /** Any of these effective workflow states (core/triage.ts `effectiveWorkflow`) at `now`; undefined for all. */
  workflows?: readonly WorkflowState[] | undefined;
  /** The instant an acceptance's expiry is compared with (canonical ISO 8601 UTC, as AcceptedUntil is stored). */
  now?: string | undefined;
  /**
   * true: only findings past their SLA due time; false: only the others. `cutoffs` (core/sla.ts `overdueCutoffs`)
   * give, per severity with an SLA, the FirstSeen before which a finding is overdue.
   */
  overdue?: { overdue: boolean; cutoffs: readonly { severity: Severity; firstSeenBefore: string }[] } | undefined;
}

/**
 * The condition for overdue findings: one `#Severity = :s AND #FirstSeen < :cutoff_s` per severity with an SLA (at
 * most five, so the filter stays bounded), FirstSeen and the cutoffs compared as canonical UTC strings; for the
 * others, its complement. undefined when no severity has an SLA (nothing is overdue; `queryFindings` answers no overdue
 * finding without reading).
 */
function overdueCondition(
  overdue: NonNullable<FindingsFilter['overdue']>,
  names: Record<string, string>,
  values: Record<string, unknown>,
): Condition | undefined {
  if (overdue.cutoffs.length === 0) return undefined;
  Object.assign(names, { '#Severity': 'Severity', '#FirstSeen': 'FirstSeen' });
  const cutoffs = overdue.cutoffs.map(({ severity, firstSeenBefore }, index) => {
    values[`:overdueSeverity${index}`] = severity;
    values[`:overdueBefore${index}`] = firstSeenBefore;
    return { severity: `:overdueSeverity${index}`, before: `:overdueBefore${index}` };
  });
  // Flat (condition.ts). A finding has one severity, so "not overdue" is: a severity without an SLA, or its own
  // severity's FirstSeen not before the cutoff (an absent FirstSeen is never overdue).
  if (overdue.overdue)
    return anyOf(...cutoffs.map(({ severity, before }) => all(`#Severity = ${severity}`, `#FirstSeen < ${before}`)));
  return anyOf(
    all(`NOT #Severity IN (${cutoffs.map(({ severity }) => severity).join(', ')})`),
    ...cutoffs.map(({ severity, before }) => all(`#Severity = ${severity}`, `NOT #FirstSeen < ${before}`)),
  );
}

/**
 * The clause for findings whose effective workflow state is one of `states` at `now`: no Workflow is
 * NEW, and a RISK_ACCEPTED whose AcceptedUntil is at or before now is NEW too (compared as strings:
 * both are canonical UTC). The same rule as `effectiveWorkflow`, in DynamoDB's words.
 */
function workflowCondition(
  states: readonly WorkflowState[],
  now: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
): Condition {
  names['#Workflow'] = 'Workflow';
  const use = (state: WorkflowState) => {
    values[`:workflow${state}`] = state;
    return `:workflow${state}`;
  };
  const accepting = () => {
    names['#AcceptedUntil'] = 'AcceptedUntil';
    values[':workflowNow'] = now;
    return `#Workflow = ${use('RISK_ACCEPTED')}`;
  };
  return anyOf(
    ...states.map((state): Condition => {
      switch (state) {
        // No Workflow, NEW, or an acceptance that has run out (or names no end).
        case 'NEW':
          return anyOf(
            all(
              ...(['ACKNOWLEDGED', 'FALSE_POSITIVE', 'RISK_ACCEPTED'] as const).map(
                (other) => `NOT #Workflow = ${use(other)}`,
              ),
            ),
            all(accepting(), 'NOT #AcceptedUntil > :workflowNow'),
          );
        case 'RISK_ACCEPTED':
          return all(accepting(), '#AcceptedUntil > :workflowNow');
        default:
          return all(`#Workflow = ${use(state)}`);
      }
    }),
  );
}

/** A DynamoDB filter expression for the filters given, or undefined for none (flat: condition.ts). */
export function filterExpression(
  filter: FindingsFilter,
): { expression: string; names: Record<string, string>; values: Record<string, unknown> } | undefined {
  const clauses: Condition[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (filter.severities !== undefined) {
    names['#Severity'] = 'Severity';
    const placeholders = filter.severities.map((severity, index) => {
      values[`:severity${index}`] = severity;
      return `:severity${index}`;
    });
    clauses.push(all(`#Severity IN (${placeholders.join(', ')})`));
  }
  if (filter.asset !== undefined) {
    names['#AssetName'] = 'AssetName';
    values[':asset'] = filter.asset;
    clauses.push(all('#AssetName = :asset'));
  }
  if (filter.cve !== undefined) {
    names['#Cves'] = 'Cves';
    values[':cve'] = filter.cve;
    clauses.push(all('contains(#Cves, :cve)'));
  }
  if (filter.packageName !== undefined) {
    names['#PackageName'] = 'PackageName';
    values[':packageName'] = filter.packageName;
    clauses.push(all('#PackageName = :packageName'));
  }
  if (filter.knownExploit !== undefined) {
    names['#KnownExploit'] = 'KnownExploit';
    values[':knownExploit'] = true;
    // false: false or absent.
    clauses.push(all(filter.knownExploit ? '#KnownExploit = :knownExploit' : 'NOT #KnownExploit = :knownExploit'));
  }
  if (filter.status !== undefined) {
    names['#Status'] = 'Status';
    values[':fixed'] = 'FIXED';
    // OPEN: OPEN or absent (findings stored before scan runs).
    clauses.push(all(filter.status === 'OPEN' ? NOT_FIXED : '#Status = :fixed'));
  }
  if (filter.workflows !== undefined)
    clauses.push(workflowCondition(filter.workflows, filter.now ?? new Date().toISOString(), names, values));
  const overdue = filter.overdue === undefined ? undefined : overdueCondition(filter.overdue, names, values);
  if (overdue !== undefined) clauses.push(overdue);
  return clauses.length === 0 ? undefined : { expression: render(allOf(...clauses)), names, values };
}

/**
 * One page of an org's findings. With a filter DynamoDB applies Limit before the filter, so rounds
 * continue with the remaining budget until the page is full, the partition ends or the round budget
 * is spent: a filtered page may hold fewer than `limit` items and still carry a position to go on from.
 */
export async function queryFindings(
  tableName: string,
  options: { org: string; limit: number; afterVulnId: string | undefined; filter: FindingsFilter },
): Promise<FindingsPage> {
  const items: StoredFinding[] = [];
  // No severity has an SLA: no finding can be overdue, and there is nothing to read.
  if (options.filter.overdue?.overdue === true && options.filter.overdue.cutoffs.length === 0)
    return { items, lastVulnId: undefined };
  let startKey: Record<string, AttributeValue> | undefined = options.afterVulnId
    ? marshall({ Org: options.org, VulnID: options.afterVulnId })
    : undefined;
  const filter = filterExpression(options.filter);
  try {
    for (let round = 0; round < MAX_QUERY_ROUNDS && items.length < options.limit; round += 1) {
      const result = await dynamoDbClient.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#Org = :org',
          ExpressionAttributeNames: { '#Org': 'Org', ...filter?.names },
          ExpressionAttributeValues: marshall({ ':org': options.org, ...filter?.values }),
          ...(filter ? { FilterExpression: filter.expression } : {}),
          Limit: options.limit - items.length,
          ExclusiveStartKey: startKey,
          // What a page costs, for the request meter and the bench (no charge for asking).
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      items.push(...(result.Items ?? []).map((item) => unmarshall(item) as StoredFinding));
      startKey = result.LastEvaluatedKey;
      if (startKey === undefined) break;
    }
  } catch (error) {
    throw classifyAwsError(error);
  }
  return { items, lastVulnId: startKey ? (unmarshall(startKey).VulnID as string) : undefined };
}
