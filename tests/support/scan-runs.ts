/** Scan runs in tests: a run stored directly (events, benchmarks), in the repository's own item shape. */
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ScanRun } from '../../functions/shared/core/scan-run';
import { runItem } from '../../functions/shared/adapters/run-item';

export async function createRunItem(client: DynamoDBClient, tableName: string, run: ScanRun): Promise<void> {
  await client.send(new PutItemCommand({ TableName: tableName, Item: runItem(run) }));
}
