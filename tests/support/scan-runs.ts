/** Scan runs in tests: a run stored directly (events, benchmarks), in the repository's own item shape. */
import { DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { newRun } from '../../functions/shared/core/scan-run';
import { EXAMPLE_RUN, EXAMPLE_RUN_ID } from './events';
import type { ScanRun } from '../../functions/shared/core/scan-run';
import { runItem } from '../../functions/shared/adapters/run-item';

export async function createRunItem(client: DynamoDBClient, tableName: string, run: ScanRun): Promise<void> {
  await client.send(new PutItemCommand({ TableName: tableName, Item: runItem(run) }));
}

/** The run the events/ scan-run files name (EXAMPLE_RUN_ID), opened afresh: nothing reported yet. */
export async function openExampleRun(client: DynamoDBClient, tableName: string): Promise<void> {
  const run = newRun(
    EXAMPLE_RUN_ID,
    EXAMPLE_RUN,
    { ou: 'scanner', serialNumber: '01' },
    new Date('2025-01-06T09:05:00.000Z'),
  );
  await client.send(new DeleteItemCommand({ TableName: tableName, Key: marshall({ RunId: EXAMPLE_RUN_ID }) }));
  await createRunItem(client, tableName, run);
}
