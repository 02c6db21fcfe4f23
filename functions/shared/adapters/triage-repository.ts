/**
 * Triage writes: each update is ONE conditional UpdateItem of one finding, so it is applied whole or
 * not at all (DynamoDB applies an UpdateItem atomically: "UpdateItem", Amazon DynamoDB API Reference,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html). The condition
 * says the finding exists in the org and, when the caller named one, still has the version it saw;
 * the refusal carries the item (ReturnValuesOnConditionCheckFailure), which tells NotFound from
 * ConflictError without another request. Only the people-owned fields and the Version are written.
 */
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TransientError } from '../core/errors';
import type { StoredFinding } from '../core/lifecycle';
import type { TriageUpdate, UnprocessedCode, WorkflowState } from '../core/triage';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';
import { triageUpdateInput, type TriageActor } from './triage-item';

export type { TriageActor } from './triage-item';

export type TriageOutcome =
  | { processed: true; vulnId: string; workflow: WorkflowState; version: number }
  | { processed: false; vulnId: string; code: UnprocessedCode; message: string };

/** Why the condition refused the update, from the item that refused it (undefined: there is none). */
function refusal(vulnId: string, update: TriageUpdate, current: StoredFinding | undefined): TriageOutcome {
  if (current === undefined)
    return { processed: false, vulnId, code: 'NotFound', message: 'no such finding in the org' };
  return {
    processed: false,
    vulnId,
    code: 'ConflictError',
    message: `the finding is at version ${current.Version ?? 0}, not ${String(update.expectedVersion)}: read it again`,
  };
}

/**
 * One finding's triage: one conditional UpdateItem; a consistent read follows only a refusal without the item
 * when a version was named (an absent finding, or a server that does not return the item).
 */
export async function triageFinding(
  tableName: string,
  org: string,
  update: TriageUpdate,
  actor: TriageActor,
  now: Date,
): Promise<TriageOutcome> {
  const key = marshall({ Org: org, VulnID: update.vulnId });
  try {
    const result = await dynamoDbClient.send(
      new UpdateItemCommand(triageUpdateInput(tableName, org, update, actor, now)),
    );
    const before = result.Attributes ? (unmarshall(result.Attributes) as StoredFinding) : undefined;
    return { processed: true, vulnId: update.vulnId, workflow: update.workflow, version: (before?.Version ?? 0) + 1 };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error);
    if (error.Item) return refusal(update.vulnId, update, unmarshall(error.Item) as StoredFinding);
    // Without a version to compare, only an absent finding refuses. With one, a refusal without the item is an
    // absent finding on DynamoDB, but a server that never returns the item says the same: read to be sure.
    if (update.expectedVersion === undefined) return refusal(update.vulnId, update, undefined);
    try {
      const read = await dynamoDbClient.send(
        new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
      );
      return refusal(update.vulnId, update, read?.Item ? (unmarshall(read.Item) as StoredFinding) : undefined);
    } catch (readError) {
      throw classifyAwsError(readError);
    }
  }
}

/** A triage that could not be written because a dependency kept failing: that item's answer, not the request's. */
export function unavailable(vulnId: string, error: unknown): TriageOutcome {
  if (!(error instanceof TransientError)) throw error;
  return { processed: false, vulnId, code: 'ServiceUnavailable', message: 'temporarily unavailable: retry this item' };
}
