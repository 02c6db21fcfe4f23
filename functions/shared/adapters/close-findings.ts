/**
 * One page of closing a completed run: read a page of the org's partition, mark FIXED what the run
 * covered and did not see (core/lifecycle.ts `shouldClose`), each on a condition that re-checks the
 * rule in DynamoDB, so a report that lands meanwhile wins and a repeated page changes nothing.
 */
import {
  ConditionalCheckFailedException,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ACTOR_ATTRIBUTE, storedActor } from '../core/change-actor';
import { shouldClose, type RunScope, type StoredFinding } from '../core/lifecycle';
import { classifyAwsError } from './aws-errors';
import { dynamoDbClient } from './dynamodb-client';
import { forEachBounded } from '../core/concurrency';
import { WRITE_CONCURRENCY } from '../core/concurrency';

/** Items one page reads: a Query answers at most 1 MB anyway; the state machine loops over pages. */
export const CLOSE_PAGE_ITEMS = 1000;

export interface ClosePageResult {
  /** Where the next page starts (the last key read), or undefined when the partition is done. */
  nextKey: { Org: string; VulnID: string } | undefined;
  /** Findings of this page this run has fixed, by this pass or an earlier one (a repeated close counts each once). */
  fixedByRun: number;
  /** Closed by this page now. */
  closedNow: number;
  examined: number;
}

type Candidate = Pick<
  StoredFinding,
  'Org' | 'VulnID' | 'Scanner' | 'AssetName' | 'Status' | 'LastSeen' | 'FixedByRunId'
>;

async function closeOne(tableName: string, finding: Candidate, scope: RunScope): Promise<boolean> {
  try {
    await dynamoDbClient.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall({ Org: finding.Org, VulnID: finding.VulnID }),
        // Every write of a finding counts in its Version (a triage naming the version it saw conflicts).
        UpdateExpression:
          'SET #Status = :fixed, #FixedAt = :scannedAt, #FixedByRunId = :runId, #Version = if_not_exists(#Version, :zero) + :one, #By = :by',
        // The rule again, in DynamoDB: still OPEN (not FIXED: OPEN or absent), still last seen before this scan, same
        // scanner. Flat, as condition.ts says why.
        ConditionExpression: 'NOT #Status = :fixed AND #LastSeen < :scannedAt AND #Scanner = :scanner',
        ExpressionAttributeNames: {
          '#Status': 'Status',
          '#FixedAt': 'FixedAt',
          '#FixedByRunId': 'FixedByRunId',
          '#LastSeen': 'LastSeen',
          '#Scanner': 'Scanner',
          '#Version': 'Version',
          '#By': ACTOR_ATTRIBUTE,
        },
        ExpressionAttributeValues: marshall({
          ':zero': 0,
          ':one': 1,
          ':fixed': 'FIXED',
          ':scannedAt': scope.scannedAt,
          ':runId': scope.runId,
          ':scanner': scope.scanner,
          // Who closes it (the finding's history names the run and its opener's certificate).
          ':by': storedActor({ ...scope.actor, runId: scope.runId }),
        }),
        // The capacity it costs, for the request meter and the bench (no charge for asking).
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export async function closePage(
  tableName: string,
  scope: RunScope,
  startKey: { Org: string; VulnID: string } | undefined,
): Promise<ClosePageResult> {
  try {
    const result = await dynamoDbClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#Org = :org',
        // Only what the rule reads; the rule itself runs below (the asset set does not fit an expression).
        ProjectionExpression: '#Org, #VulnID, #Scanner, #AssetName, #Status, #LastSeen, #FixedByRunId',
        FilterExpression: '#Scanner = :scanner',
        ExpressionAttributeNames: {
          '#Org': 'Org',
          '#VulnID': 'VulnID',
          '#Scanner': 'Scanner',
          '#AssetName': 'AssetName',
          '#Status': 'Status',
          '#LastSeen': 'LastSeen',
          '#FixedByRunId': 'FixedByRunId',
        },
        ExpressionAttributeValues: marshall({ ':org': scope.org, ':scanner': scope.scanner }),
        Limit: CLOSE_PAGE_ITEMS,
        ReturnConsumedCapacity: 'TOTAL',
        ...(startKey ? { ExclusiveStartKey: marshall(startKey) } : {}),
      }),
    );
    const items = (result.Items ?? []).map((item: Record<string, AttributeValue>) => unmarshall(item) as Candidate);
    let fixedByRun = items.filter((item) => item.Status === 'FIXED' && item.FixedByRunId === scope.runId).length;
    let closedNow = 0;
    await forEachBounded(
      items.filter((item) => shouldClose(item, scope)),
      WRITE_CONCURRENCY,
      async (item) => {
        if (await closeOne(tableName, item, scope)) {
          closedNow += 1;
          fixedByRun += 1;
        }
      },
    );
    const last = result.LastEvaluatedKey
      ? (unmarshall(result.LastEvaluatedKey) as { Org: string; VulnID: string })
      : undefined;
    return { nextKey: last, fixedByRun, closedNow, examined: result.ScannedCount ?? items.length };
  } catch (error) {
    throw classifyAwsError(error);
  }
}
