/**
 * A real DynamoDB-API server (dynalite) on loopback, with the tables template.yaml defines. Data
 * persists in `dataDir` (LevelDB) so a restart loses nothing; without `dataDir` it is in memory.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../aws-local';
import { listenOnLoopback, type LoopbackListener } from '../loopback';
import { loadTemplate, resourcesOfType, type CfnTemplate } from '../cloudformation/template';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export type LocalDynamoDb = LoopbackListener;

export async function startDynamoDb(options: { port?: number; dataDir?: string } = {}): Promise<LocalDynamoDb> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dataDir ? { path: options.dataDir } : {}) });
  return listenOnLoopback(server, options.port ?? 0);
}

export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** Locally a table is named by its logical id: one stack per machine, names easy to read. */
export type TableNames = Record<string, string>;
export const localTableName = (logicalId: string) => logicalId;

/** CreateTable input for each AWS::DynamoDB::Table of the template (keys and indexes; SSE etc. are AWS-only). */
export function tableDefinitions(template: CfnTemplate = loadTemplate()): CreateTableCommandInput[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table').map(([logicalId, resource]) => {
    const properties = resource.Properties as Pick<CreateTableCommandInput, 'AttributeDefinitions' | 'KeySchema' | 'GlobalSecondaryIndexes' | 'LocalSecondaryIndexes'>;
    return {
      TableName: localTableName(logicalId),
      AttributeDefinitions: properties.AttributeDefinitions,
      KeySchema: properties.KeySchema,
      BillingMode: 'PAY_PER_REQUEST',
      ...(properties.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes } : {}),
      ...(properties.LocalSecondaryIndexes ? { LocalSecondaryIndexes: properties.LocalSecondaryIndexes } : {}),
    };
  });
}

/** Creates the template's tables unless they exist (a persisted store keeps them). */
export async function createTablesFromTemplate(endpoint: string): Promise<TableNames> {
  const client = localDynamoDbClient(endpoint);
  const names: TableNames = {};
  try {
    for (const definition of tableDefinitions()) {
      try {
        await client.send(new CreateTableCommand(definition));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      names[definition.TableName as string] = definition.TableName as string;
    }
  } finally {
    client.destroy();
  }
  return names;
}
