/**
 * The local IAM pieces on their own: the evaluator (iam-simulate) on every condition key the stack's documents
 * rely on, each shown deciding both ways (a key the engine silently dropped would allow or deny everything);
 * the gate's callers, VPC routes and cache; and the action and resources read from DynamoDB requests.
 */
import { IamEvaluator } from '../../local/iam/evaluator';
import { IamGate, type Denial } from '../../local/iam/gate';
import { dynamoDbCall, lambdaInvokeCall, secretsManagerCall } from '../../local/iam/calls';
import { callerOf, roleAccessKeyId, roleCaller } from '../../local/iam/credentials';
import type { StackIam } from '../../local/iam/stack-iam';

const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ReaderRole`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/DataKey-local`;
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:PageTokenSecret-local`;
const OTHER_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:Other-local`;
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/FindingsTable`;
const FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:GetFindingsFunction`;
const ROUTE = `arn:aws:execute-api:us-east-1:${ACCOUNT}:local/v1/GET/vuln`;
const allow = (statement: Record<string, unknown>) => ({ Effect: 'Allow', ...statement });
const document = (...statements: Record<string, unknown>[]) => ({ Version: '2012-10-17', Statement: statements });

const stack: StackIam = {
  roles: {
    [ROLE]: {
      arn: ROLE,
      identityPolicies: [
        {
          name: 'reads',
          policy: document(
            allow({ Action: 'dynamodb:Query', Resource: TABLE }),
            allow({ Action: 'secretsmanager:GetSecretValue', Resource: SECRET }),
            allow({
              Action: 'kms:Decrypt',
              Resource: KEY,
              Condition: {
                StringEquals: {
                  'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com',
                  'kms:EncryptionContext:SecretARN': SECRET,
                },
              },
            }),
            allow({
              Action: 'kms:Decrypt',
              Resource: KEY,
              Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
            }),
          ),
        },
      ],
      boundary: {
        name: 'boundary',
        policy: document(allow({ Action: ['dynamodb:*', 'secretsmanager:*', 'kms:Decrypt'], Resource: '*' })),
      },
    },
  },
  resourcePolicies: {
    [KEY]: document(allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' })),
    // As Lambda keeps an AWS::Lambda::Permission for API Gateway (stack-iam.ts).
    [FUNCTION]: document(
      allow({
        Principal: { Service: 'apigateway.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Resource: FUNCTION,
        Condition: { ArnLike: { 'AWS:SourceArn': ROUTE }, StringEquals: { 'AWS:SourceAccount': ACCOUNT } },
      }),
    ),
  },
  keyOf: { tables: { FindingsTable: KEY }, secrets: { [SECRET]: KEY } },
  functionRoles: { GetFindingsFunction: 'ReaderRole' },
  stateMachineRoles: {},
};
const vpcStack = (statement: Record<string, unknown>): StackIam => ({
  ...stack,
  vpc: {
    routes: {
      dynamodb: { logicalId: 'DynamoDbEndpoint', policy: { name: 'DynamoDbEndpoint', policy: document(statement) } },
    },
  },
});

const evaluator = new IamEvaluator(stack);
const decide = async (request: Parameters<IamEvaluator['decide']>[0]) => (await evaluator.decide(request)).allowed;

describe('the evaluator on the condition keys the stack relies on', () => {
  it('kms:ViaService: the key only through the named service', async () => {
    const viaDynamoDb = { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' };
    const viaS3 = { 'kms:ViaService': 's3.us-east-1.amazonaws.com' };
    expect(await decide({ principal: ROLE, action: 'kms:Decrypt', resource: KEY, context: viaDynamoDb })).toBe(true);
    expect(await decide({ principal: ROLE, action: 'kms:Decrypt', resource: KEY, context: viaS3 })).toBe(false);
    expect(await decide({ principal: ROLE, action: 'kms:Decrypt', resource: KEY })).toBe(false);
  });

  it('kms:EncryptionContext:SecretARN: the key for this secret only (the stand-in key the evaluator keeps)', async () => {
    const through = (secret: string) => ({
      'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com',
      'kms:EncryptionContext:SecretARN': secret,
    });
    expect(await decide({ principal: ROLE, action: 'kms:Decrypt', resource: KEY, context: through(SECRET) })).toBe(
      true,
    );
    expect(
      await decide({ principal: ROLE, action: 'kms:Decrypt', resource: KEY, context: through(OTHER_SECRET) }),
    ).toBe(false);
  });

  it("aws:SourceArn and aws:SourceAccount: API Gateway invokes the function from the permission's route only", async () => {
    const from = (sourceArn: string, account = ACCOUNT) => ({
      principal: 'apigateway.amazonaws.com',
      action: 'lambda:InvokeFunction',
      resource: FUNCTION,
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': account },
    });
    expect(await decide(from(ROUTE))).toBe(true);
    expect(await decide(from(ROUTE.replace('GET/vuln', 'POST/vuln')))).toBe(false);
    expect(await decide(from(ROUTE, '111111111111'))).toBe(false);
  });

  it("aws:PrincipalAccount in an endpoint policy: this account's roles only", async () => {
    const endpoint = (account: string) => ({
      name: 'DynamoDbEndpoint',
      policy: document(
        allow({
          Principal: '*',
          Action: 'dynamodb:Query',
          Resource: TABLE,
          Condition: { StringEquals: { 'aws:PrincipalAccount': account } },
        }),
      ),
    });
    expect(
      await decide({ principal: ROLE, action: 'dynamodb:Query', resource: TABLE, endpoint: endpoint(ACCOUNT) }),
    ).toBe(true);
    expect(
      await decide({ principal: ROLE, action: 'dynamodb:Query', resource: TABLE, endpoint: endpoint('111111111111') }),
    ).toBe(false);
  });

  it('names the action, the resource and why, as AWS words an AccessDenied', async () => {
    const decision = await evaluator.decide({
      principal: ROLE,
      session: 'GetFindingsFunction',
      action: 'dynamodb:PutItem',
      resource: TABLE,
    });
    expect(decision).toEqual({
      allowed: false,
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/ReaderRole/GetFindingsFunction is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    });
  });
});

describe('the gate', () => {
  const reader = callerOf(
    `AWS4-HMAC-SHA256 Credential=${roleAccessKeyId('ReaderRole', 'GetFindingsFunction')}/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x`,
  );

  it('reads the caller from the SigV4 Authorization header: the operator, a role session, or nobody', () => {
    expect(callerOf('AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request')).toEqual({
      kind: 'operator',
    });
    expect(reader).toEqual(roleCaller('ReaderRole', 'GetFindingsFunction'));
    expect(callerOf(undefined)).toEqual({ kind: 'unknown', keyId: undefined });
  });

  it('evaluates the call and the KMS key the service uses for it, and records each refusal', async () => {
    const denials: Denial[] = [];
    const gate = new IamGate(stack, (denial) => denials.push(denial));
    expect(
      await gate.check(reader, dynamoDbCall('DynamoDB_20120810.Query', { TableName: 'FindingsTable' }, stack)),
    ).toEqual({ kind: 'allowed' });
    expect(await gate.check(reader, secretsManagerCall('secretsmanager.GetSecretValue', SECRET, stack))).toEqual({
      kind: 'allowed',
    });
    expect(
      await gate.check(reader, dynamoDbCall('DynamoDB_20120810.PutItem', { TableName: 'FindingsTable' }, stack)),
    ).toMatchObject({ kind: 'denied', code: 'AccessDeniedException', kms: false });
    expect(
      await gate.check(
        { kind: 'operator' },
        dynamoDbCall('DynamoDB_20120810.DeleteTable', { TableName: 'FindingsTable' }, stack),
      ),
    ).toEqual({ kind: 'allowed' });
    expect(await gate.check({ kind: 'unknown', keyId: 'AKIA' }, lambdaInvokeCall(FUNCTION))).toMatchObject({
      kind: 'denied',
      code: 'UnrecognizedClientException',
    });
    expect(denials.map((denial) => denial.action)).toEqual(['dynamodb:PutItem', 'lambda:InvokeFunction']);
  });

  it('refuses the call when the key policy or the kms grant is missing, naming KMS', async () => {
    const noKeyGrant: StackIam = { ...stack, keyOf: { tables: {}, secrets: { [OTHER_SECRET]: KEY } } };
    const withOtherSecret: StackIam = {
      ...noKeyGrant,
      roles: {
        [ROLE]: {
          ...(stack.roles[ROLE] as StackIam['roles'][string]),
          identityPolicies: [
            {
              name: 'read',
              policy: document(allow({ Action: 'secretsmanager:GetSecretValue', Resource: OTHER_SECRET })),
            },
          ],
        },
      },
    };
    const gate = new IamGate(withOtherSecret);
    expect(
      await gate.check(reader, secretsManagerCall('secretsmanager.GetSecretValue', OTHER_SECRET, withOtherSecret)),
    ).toMatchObject({
      kind: 'denied',
      kms: true,
      message: expect.stringContaining('kms:Decrypt'),
    });
  });

  it("in the VPC: a function's call takes its route's endpoint policy, and no route is no answer", async () => {
    const open = vpcStack({ Effect: 'Allow', Principal: '*', Action: 'dynamodb:Query', Resource: TABLE });
    const query = dynamoDbCall('DynamoDB_20120810.Query', { TableName: 'FindingsTable' }, stack);
    expect(await new IamGate(open).check(reader, query)).toEqual({ kind: 'allowed' });
    const closed = vpcStack({ Effect: 'Allow', Principal: '*', Action: 'dynamodb:GetItem', Resource: TABLE });
    expect(await new IamGate(closed).check(reader, query)).toMatchObject({
      kind: 'denied',
      message: expect.stringContaining('VPC endpoint'),
    });
    expect(
      await new IamGate(open).check(reader, secretsManagerCall('secretsmanager.GetSecretValue', SECRET, stack)),
    ).toEqual({ kind: 'unreachable' });
    // A state machine's role is not in the functions' subnets.
    const machine = roleCaller('ReaderRole', 'IngestStateMachine');
    expect(
      await new IamGate(open).check(machine, secretsManagerCall('secretsmanager.GetSecretValue', SECRET, stack)),
    ).toEqual({ kind: 'allowed' });
  });
});

describe('a DynamoDB request as IAM sees it', () => {
  const resources = (target: string, body: Record<string, unknown>) =>
    dynamoDbCall(`DynamoDB_20120810.${target}`, body, stack).resources;

  it('a Query on an index is on the index ARN; batches name each table; a transaction each item with its own action', () => {
    expect(resources('Query', { TableName: 'T', IndexName: 'ByStatus' })).toEqual([
      { action: 'dynamodb:Query', resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/T/index/ByStatus` },
    ]);
    expect(resources('BatchWriteItem', { RequestItems: { A: [], B: [] } }).map((r) => r.resource)).toEqual([
      `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/A`,
      `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/B`,
    ]);
    expect(
      resources('TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'A' } },
          { Update: { TableName: 'B' } },
          { ConditionCheck: { TableName: 'A' } },
        ],
      }).map((r) => r.action),
    ).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']);
  });

  it('an encrypted table adds the key, through DynamoDB', () => {
    expect(dynamoDbCall('DynamoDB_20120810.GetItem', { TableName: 'FindingsTable' }, stack).kms).toEqual([
      { key: KEY, context: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com', 'kms:CallerAccount': ACCOUNT } },
    ]);
    expect(dynamoDbCall('DynamoDB_20120810.GetItem', { TableName: 'Plain' }, stack).kms).toEqual([]);
  });
});

test('a role key is letters and digits only (DynamoDB Local 2.x refuses any other access key id) and names its role and session', () => {
  const keyId = roleAccessKeyId('GetFindingsFunctionRole', 'GetFindingsFunction');
  expect(keyId).toMatch(/^[A-Za-z0-9]+$/);
  expect(callerOf(`AWS4-HMAC-SHA256 Credential=${keyId}/20260101/us-east-1/dynamodb/aws4_request`)).toMatchObject({
    kind: 'role',
    roleName: 'GetFindingsFunctionRole',
    session: 'GetFindingsFunction',
  });
});
