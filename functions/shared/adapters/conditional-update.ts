/**
 * The one form of a finding's conditional UpdateItem (an ingest write and a triage): the item it replaced comes back
 * when it is applied and the item that refused it when it is not (`ReturnValuesOnConditionCheckFailure`), so the
 * outcome needs no read; the capacity it costs comes back for the request meter and the bench.
 */
import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

export interface ConditionalUpdate {
  tableName: string;
  key: { Org: string; VulnID: string };
  update: string;
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

export function conditionalUpdateInput(write: ConditionalUpdate): UpdateItemCommandInput {
  return {
    TableName: write.tableName,
    Key: marshall(write.key),
    UpdateExpression: write.update,
    ConditionExpression: write.condition,
    ExpressionAttributeNames: write.names,
    ExpressionAttributeValues: marshall(write.values, { removeUndefinedValues: true }),
    ReturnValues: 'ALL_OLD',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ReturnConsumedCapacity: 'TOTAL',
  };
}
