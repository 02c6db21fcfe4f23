/**
 * A real DynamoDB-API server (dynalite) on loopback, in a process of its own, with the tables
 * template.yaml defines. Data persists in `dataDir` (LevelDB) so a restart loses nothing; without
 * `dataDir` it is in memory.
 */
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  type CreateTableCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../aws-local';
import { reachableHost, type LoopbackListener } from '../loopback';
import { loadTemplate, resourcesOfType, type CfnTemplate } from '../cloudformation/template';
import type { ChildMessage, DynaliteProcessOptions, ParentMessage } from './dynalite-process';
import type { Denial } from '../iam/gate';
import type { StackIam } from '../iam/stack-iam';
import { DYNAMODB_ENGINE_VARIABLE, startDynamoDbLocal } from './dynamodb-local';
import type { MeterReading } from './request-meter';

export interface LocalDynamoDb extends LoopbackListener {
  /** Peak resident memory of the server's process. */
  maxRssBytes(): Promise<number>;
  /**
   * From now on every call is evaluated against the stack's IAM (dynalite-process.ts); each denial is reported.
   * Undefined for DynamoDB Local, which the local stack cannot put IAM in front of.
   */
  enforceIam?(stack: StackIam, onDenial: (denial: Denial) => void): Promise<void>;
  /** What the server has received so far, per table and operation (request-meter.ts). */
  requests(): Promise<MeterReading>;
}

/**
 * Starts dynalite in a child process of its own (dynalite-process.ts) and waits until it listens;
 * with LOCAL_DYNAMODB=dynamodb-local, Amazon's DynamoDB Local instead.
 */
export async function startDynamoDb(
  options: { port?: number; dataDir?: string; host?: string; cpuProfileDir?: string } = {},
): Promise<LocalDynamoDb> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const engine = process.env[DYNAMODB_ENGINE_VARIABLE] ?? 'dynalite';
  if (engine === 'dynamodb-local') {
    if (options.host)
      throw new Error(`--bind-address is not supported with ${DYNAMODB_ENGINE_VARIABLE}=dynamodb-local`);
    return startDynamoDbLocal(options);
  }
  if (engine !== 'dynalite')
    throw new Error(`${DYNAMODB_ENGINE_VARIABLE} must be dynalite or dynamodb-local, not ${engine}`);
  const settings: DynaliteProcessOptions = {
    port: options.port ?? 0,
    ...(options.dataDir ? { path: options.dataDir } : {}),
    ...(options.host ? { host: options.host } : {}),
  };
  const child = fork(resolve(__dirname, 'dynalite-process.ts'), [JSON.stringify(settings)], {
    execArgv: [
      '--import',
      'tsx',
      ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfileDir, 'dynamodb')}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('exit', (code) => reject(new Error(`The DynamoDB-API server stopped (exit status ${code})`)));
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'listening') resolvePort(message.port);
      if (message.type === 'error')
        reject(
          Object.assign(new Error(message.message), {
            code: /EADDRINUSE/.test(message.message) ? 'EADDRINUSE' : undefined,
          }),
        );
    });
  });
  // Neither the process nor its channel keeps this one alive; close() stops it.
  child.unref();
  child.channel?.unref();
  const ask = (message: ParentMessage) => child.send(message);
  let onDenial: ((denial: Denial) => void) | undefined;
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'denial') onDenial?.(message.denial);
  });
  /** One question to the server's process, answered by the first message of the same type. */
  const answer = <T extends ChildMessage['type']>(type: T) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolveAnswer) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.channel?.unref();
        resolveAnswer(message as Extract<ChildMessage, { type: T }>);
      };
      child.channel?.ref();
      child.on('message', onMessage);
      ask({ type } as ParentMessage);
    });
  return {
    enforceIam: (stack, report) =>
      new Promise<void>((resolveEnforced) => {
        onDenial = report;
        const onMessage = (message: ChildMessage) => {
          if (message.type !== 'iam-enforced') return;
          child.off('message', onMessage);
          child.channel?.unref();
          resolveEnforced();
        };
        child.channel?.ref();
        child.on('message', onMessage);
        ask({ type: 'iam', stack });
      }),
    endpoint: `http://${reachableHost(options.host ?? '127.0.0.1')}:${port}`,
    port,
    maxRssBytes: async () => (await answer('memory')).maxRssBytes,
    requests: async () => (await answer('requests')).reading,
    close: async () => {
      // Held again until it has stopped, so a caller's process does not end first.
      child.ref();
      if (child.exitCode === null && child.connected) ask({ type: 'close' });
      await exited;
    },
  };
}

export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** Locally a table is named by its logical id: one stack per machine, names easy to read. */
export type TableNames = Record<string, string>;
export const localTableName = (logicalId: string) => logicalId;

/**
 * CreateTable input for each AWS::DynamoDB::Table of the template (keys, indexes and the stream; SSE etc. are
 * AWS-only). CloudFormation's `StreamSpecification` is `{ StreamViewType }` alone: a table with one has a stream
 * ("AWS::DynamoDB::Table StreamSpecification", CloudFormation User Guide), which the API says as `StreamEnabled: true`.
 */
export function tableDefinitions(template: CfnTemplate = loadTemplate()): CreateTableCommandInput[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table').map(([logicalId, resource]) => {
    const properties = resource.Properties as Pick<
      CreateTableCommandInput,
      'AttributeDefinitions' | 'KeySchema' | 'GlobalSecondaryIndexes' | 'LocalSecondaryIndexes'
    > & { StreamSpecification?: { StreamViewType?: string } };
    const viewType = properties.StreamSpecification?.StreamViewType;
    return {
      TableName: localTableName(logicalId),
      AttributeDefinitions: properties.AttributeDefinitions,
      KeySchema: properties.KeySchema,
      BillingMode: 'PAY_PER_REQUEST',
      ...(properties.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes } : {}),
      ...(properties.LocalSecondaryIndexes ? { LocalSecondaryIndexes: properties.LocalSecondaryIndexes } : {}),
      ...(viewType
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: viewType as 'NEW_AND_OLD_IMAGES' } }
        : {}),
    };
  });
}

export interface CreatedTables {
  names: TableNames;
  /** Table logical id → its stream's ARN (`!GetAtt Table.StreamArn`), for the tables with a stream. */
  streamArns: Record<string, string>;
}

/**
 * Creates the template's tables unless they exist (a persisted store keeps them); an existing table the template
 * gives a stream it lacks (or another view type) gets it by UpdateTable, as a stack update would.
 */
export async function createTablesFromTemplate(
  endpoint: string,
  template: CfnTemplate = loadTemplate(),
): Promise<CreatedTables> {
  const client = localDynamoDbClient(endpoint);
  const created: CreatedTables = { names: {}, streamArns: {} };
  try {
    for (const definition of tableDefinitions(template)) {
      const name = definition.TableName as string;
      let table: TableDescription | undefined;
      try {
        table = (await client.send(new CreateTableCommand(definition))).TableDescription;
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        table = (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
        const wanted = definition.StreamSpecification;
        const current = table?.StreamSpecification;
        if (wanted && !(current?.StreamEnabled && current.StreamViewType === wanted.StreamViewType)) {
          if (current?.StreamEnabled)
            await client.send(
              new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: false } }),
            );
          table = (await client.send(new UpdateTableCommand({ TableName: name, StreamSpecification: wanted })))
            .TableDescription;
        }
      }
      created.names[name] = name;
      if (definition.StreamSpecification && table?.LatestStreamArn) created.streamArns[name] = table.LatestStreamArn;
    }
  } finally {
    client.destroy();
  }
  return created;
}
