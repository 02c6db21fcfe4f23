/**
 * The local DynamoDB-API server where the product relies on a documented behaviour dynalite lacks
 * (local/dynamodb/dynalite-conformance.ts), and its request meter (local/dynamodb/request-meter.ts).
 * Runs on dynalite and, with LOCAL_DYNAMODB=dynamodb-local (.ci/run), on Amazon's DynamoDB Local, so
 * both answer alike.
 */
import {
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { localDynamoDbClient, startDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/server';
import { meterDifference } from '../../local/dynamodb/request-meter';

const TABLE = 'Conformance';
let server: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  server = await startDynamoDb({ port: 0 });
  client = localDynamoDbClient(server.endpoint);
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [
        { AttributeName: 'Org', AttributeType: 'S' },
        { AttributeName: 'VulnID', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'Org', KeyType: 'HASH' },
        { AttributeName: 'VulnID', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 90_000);

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

const stored = { Org: 'org1', VulnID: 'v-1', LastSeen: '2026-03-02T09:00:00.000Z', Status: 'FIXED', Port: 443 };
const key = marshall({ Org: 'org1', VulnID: 'v-1' });

/** The error a request fails with (the test fails if it succeeds). */
async function refusal(send: Promise<unknown>): Promise<{ name: string; Item?: Record<string, unknown> }> {
  const error = (await send.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )) as { name: string; Item?: Record<string, unknown> } | undefined;
  if (error === undefined) throw new Error('the request succeeded');
  return error;
}

const failingUpdate = (extra: Record<string, unknown> = {}) =>
  new UpdateItemCommand({
    TableName: TABLE,
    Key: key,
    UpdateExpression: 'SET #LastSeen = :t',
    ConditionExpression: '#Status = :open',
    ExpressionAttributeNames: { '#LastSeen': 'LastSeen', '#Status': 'Status' },
    ExpressionAttributeValues: marshall({ ':t': '2026-03-09T09:00:00.000Z', ':open': 'OPEN' }),
    ...extra,
  });

describe('ReturnValuesOnConditionCheckFailure (UpdateItem, PutItem, DeleteItem API reference)', () => {
  beforeEach(async () => {
    await client.send(new PutItemCommand({ TableName: TABLE, Item: marshall(stored) }));
  });

  it('ALL_OLD: a refused UpdateItem carries the item that refused it, and changes nothing', async () => {
    const error = await refusal(client.send(failingUpdate({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })));
    expect(error.name).toBe('ConditionalCheckFailedException');
    expect(unmarshall(error.Item as never)).toEqual(stored);
    const again = await refusal(client.send(failingUpdate({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })));
    expect(unmarshall(again.Item as never)).toEqual(stored);
  });

  it('without it, or with NONE, the refusal carries no item', async () => {
    expect((await refusal(client.send(failingUpdate()))).Item).toBeUndefined();
    expect(
      (await refusal(client.send(failingUpdate({ ReturnValuesOnConditionCheckFailure: 'NONE' })))).Item,
    ).toBeUndefined();
  });

  it('a refusal because the item must exist carries nothing when there is no item', async () => {
    const error = await refusal(
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: marshall({ Org: 'org1', VulnID: 'absent' }),
          UpdateExpression: 'SET #LastSeen = :t',
          ConditionExpression: 'attribute_exists(#VulnID)',
          ExpressionAttributeNames: { '#LastSeen': 'LastSeen', '#VulnID': 'VulnID' },
          ExpressionAttributeValues: marshall({ ':t': '2026-03-09T09:00:00.000Z' }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(error.name).toBe('ConditionalCheckFailedException');
    expect(error.Item).toBeUndefined();
  });

  it('PutItem and DeleteItem return the item the same way', async () => {
    const put = await refusal(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: marshall({ Org: 'org1', VulnID: 'v-1' }),
          ConditionExpression: 'attribute_not_exists(VulnID)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(unmarshall(put.Item as never)).toEqual(stored);
    const deleted = await refusal(
      client.send(
        new DeleteItemCommand({
          TableName: TABLE,
          Key: key,
          ConditionExpression: 'attribute_not_exists(VulnID)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(unmarshall(deleted.Item as never)).toEqual(stored);
  });

  it('refuses a value other than NONE and ALL_OLD', async () => {
    const error = await refusal(client.send(failingUpdate({ ReturnValuesOnConditionCheckFailure: 'ALL_NEW' })));
    expect(error.name).toBe('ValidationException');
  });
});

describe('the request meter', () => {
  it('counts requests per table and operation, the refused conditional writes, and the units the server reported', async () => {
    const before = await server.requests();
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: marshall({ Org: 'org2', VulnID: 'metered' }),
        UpdateExpression: 'SET #LastSeen = :t',
        ExpressionAttributeNames: { '#LastSeen': 'LastSeen' },
        ExpressionAttributeValues: marshall({ ':t': '2026-03-09T09:00:00.000Z' }),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    await client.send(new PutItemCommand({ TableName: TABLE, Item: marshall(stored) }));
    await refusal(client.send(failingUpdate({ ReturnConsumedCapacity: 'TOTAL' })));
    expect(meterDifference(before, await server.requests())).toEqual({
      [TABLE]: {
        UpdateItem: { requests: 2, conditionalCheckFailed: 1, capacityUnits: 1 },
        PutItem: { requests: 1, conditionalCheckFailed: 0, capacityUnits: 0 },
      },
    });
  });
});

/**
 * The flat conditions (functions/shared/adapters/condition.ts) read "OPEN or absent" as `NOT #Status = :fixed`
 * and "absent or at most" as `NOT #n > :v`: a comparison with an absent attribute is false, so its NOT holds,
 * and AND binds tighter than OR. Both engines must agree, or a FIXED/absent finding would be misread.
 */
describe('flat conditions', () => {
  const flatKey = (id: string) => marshall({ Org: 'flat', VulnID: id });
  const put = (id: string, fields: Record<string, unknown>) =>
    client.send(new PutItemCommand({ TableName: TABLE, Item: marshall({ Org: 'flat', VulnID: id, ...fields }) }));
  const holds = async (id: string, condition: string, values: Record<string, unknown>, names: Record<string, string>) =>
    client
      .send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: flatKey(id),
          UpdateExpression: 'SET #Touched = :touched',
          ConditionExpression: condition,
          ExpressionAttributeNames: { ...names, '#Touched': 'Touched' },
          ExpressionAttributeValues: marshall({ ...values, ':touched': true }),
        }),
      )
      .then(
        () => true,
        (error: { name: string }) => {
          if (error.name !== 'ConditionalCheckFailedException') throw error;
          return false;
        },
      );

  it('NOT a comparison holds for an absent attribute and fails for the value', async () => {
    await put('absent', { LastSeen: 'b' });
    await put('open', { LastSeen: 'b', Status: 'OPEN', Version: 3 });
    await put('fixed', { LastSeen: 'b', Status: 'FIXED', Version: 5 });
    const notFixed = ['NOT #Status = :fixed', { ':fixed': 'FIXED' }, { '#Status': 'Status' }] as const;
    expect(await holds('absent', ...notFixed)).toBe(true);
    expect(await holds('open', ...notFixed)).toBe(true);
    expect(await holds('fixed', ...notFixed)).toBe(false);
    const atMost = ['NOT #Version > :v', { ':v': 3 }, { '#Version': 'Version' }] as const;
    expect(await holds('absent', ...atMost)).toBe(true);
    expect(await holds('open', ...atMost)).toBe(true);
    expect(await holds('fixed', ...atMost)).toBe(false);
  });

  it('AND binds tighter than OR', async () => {
    await put('precedence', { LastSeen: 'b', Status: 'FIXED' });
    const names = { '#VulnID': 'VulnID', '#Status': 'Status', '#LastSeen': 'LastSeen' };
    // As (absent) OR (not FIXED AND ...): false for a FIXED item; read as ((absent OR not FIXED) AND ...) it is false too,
    // so also the case that tells the two readings apart: a present, FIXED item with LastSeen after the scan.
    const upsert = 'attribute_not_exists(#VulnID) OR NOT #Status = :fixed AND #LastSeen <= :scannedAt';
    expect(await holds('precedence', upsert, { ':fixed': 'FIXED', ':scannedAt': 'c' }, names)).toBe(false);
    // x OR y AND z with x true and z false: true only if AND binds tighter (x OR (y AND z)).
    const tight = 'attribute_exists(#VulnID) OR #Status = :fixed AND #LastSeen > :scannedAt';
    expect(await holds('precedence', tight, { ':fixed': 'FIXED', ':scannedAt': 'c' }, names)).toBe(true);
  });
});
