/**
 * What an AWS API request asks IAM, read from the request itself (never from a list of what the stack's
 * code is expected to call): the action `<service>:<Operation>` from the operation the request names, the
 * resources from its parameters, and the KMS keys the service will use on the caller's behalf. Shapes: the
 * DynamoDB, Secrets Manager and Step Functions API References; resource ARNs: "Actions, resources, and
 * condition keys" (Service Authorization Reference) for each service.
 */
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION } from '../aws-local';
import type { StackIam } from './stack-iam';
import { streamArnOfIterator } from '../dynamodb/streams';

export interface KmsUse {
  key: string;
  /** The request context of the service's call to KMS on the caller's behalf (kms:ViaService, encryption context). */
  context: Record<string, string>;
}

export interface AwsCall {
  /** The service's endpoint name (`com.amazonaws.REGION.<service>`), which is also its IAM prefix here. */
  service: string;
  /** `<service>:<Operation>`, or one per resource when they differ (a transaction's items). */
  action: string;
  resources: { action: string; resource: string }[];
  /** The service decrypts with these keys for the caller: the caller needs kms:Decrypt through the service. */
  kms: KmsUse[];
  context?: Record<string, string>;
}

const viaService = (service: string) => `${service}.${LOCAL_REGION}.amazonaws.com`;

export const localTableArn = (tableName: string) =>
  `arn:${LOCAL_PARTITION}:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${tableName}`;

/** The tables a DynamoDB request names, each with the action it performs there (a transaction mixes them). */
function dynamoDbTargets(
  operation: string,
  body: Record<string, unknown>,
): { action: string; table: string; index?: string }[] {
  const action = `dynamodb:${operation}`;
  if (typeof body.TableName === 'string')
    return [
      {
        action,
        table: body.TableName,
        ...(typeof body.IndexName === 'string' ? { index: body.IndexName } : {}),
      },
    ];
  if (body.RequestItems && typeof body.RequestItems === 'object')
    return Object.keys(body.RequestItems).map((table) => ({ action, table }));
  if (Array.isArray(body.TransactItems))
    return (body.TransactItems as Record<string, { TableName?: string }>[]).flatMap((item) =>
      Object.entries(item).map(([kind, part]) => ({
        // TransactWriteItems' Put/Update/Delete/ConditionCheck and TransactGetItems' Get are each authorized as the
        // single-item action (DynamoDB API permissions reference).
        action: `dynamodb:${kind === 'ConditionCheck' ? 'ConditionCheckItem' : `${kind}Item`}`,
        table: String(part?.TableName),
      })),
    );
  return [];
}

/**
 * A DynamoDB Streams request (`X-Amz-Target: DynamoDBStreams_20120810.<Operation>`): IAM's action is
 * `dynamodb:<Operation>` on the stream (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`, the "stream"
 * resource type of "Actions, resources, and condition keys for Amazon DynamoDB", Service Authorization Reference);
 * GetRecords names its stream through the shard iterator, ListStreams the table's streams (all tables' without one).
 */
function dynamoDbStreamsCall(operation: string, body: Record<string, unknown>): AwsCall {
  const action = `dynamodb:${operation}`;
  const resource =
    typeof body.StreamArn === 'string'
      ? body.StreamArn
      : typeof body.ShardIterator === 'string'
        ? streamArnOfIterator(body.ShardIterator)
        : `${localTableArn(typeof body.TableName === 'string' ? body.TableName : '*')}/stream/*`;
  // The table's KMS key is used by DynamoDB Streams itself: no kms:Decrypt of the reader's is evaluated locally.
  return { service: 'dynamodb', action, resources: [{ action, resource }], kms: [] };
}

/** A DynamoDB JSON 1.0 request (`X-Amz-Target: DynamoDB_20120810.<Operation>`) as IAM sees it. */
export function dynamoDbCall(target: string, body: Record<string, unknown>, stack: StackIam): AwsCall {
  const operation = target.slice(target.indexOf('.') + 1);
  if (target.startsWith('DynamoDBStreams_')) return dynamoDbStreamsCall(operation, body);
  const targets = dynamoDbTargets(operation, body);
  const resources = targets.length
    ? targets.map(({ action, table, index }) => ({
        action,
        resource: `${localTableArn(table)}${index === undefined ? '' : `/index/${index}`}`,
      }))
    : // ListTables and the like name no table: IAM evaluates them on every table of the account.
      [{ action: `dynamodb:${operation}`, resource: `${localTableArn('*')}` }];
  const keys = new Set(targets.map(({ table }) => stack.keyOf.tables[table]).filter((key) => key !== undefined));
  return {
    service: 'dynamodb',
    action: `dynamodb:${operation}`,
    resources,
    // A table encrypted with a customer managed key is read and written with the caller's permission to use
    // the key through DynamoDB ("How Amazon DynamoDB uses AWS KMS", AWS KMS Developer Guide: the key policy and
    // the principal's kms:Decrypt, usually conditioned on kms:ViaService and kms:CallerAccount).
    kms: [...keys].map((key) => ({
      key,
      context: { 'kms:ViaService': viaService('dynamodb'), 'kms:CallerAccount': LOCAL_ACCOUNT },
    })),
  };
}

/** A Secrets Manager JSON 1.1 request (`X-Amz-Target: secretsmanager.<Operation>`), SecretId an ARN or a name. */
export function secretsManagerCall(target: string, secretArn: string, stack: StackIam): AwsCall {
  const action = `secretsmanager:${target.slice(target.indexOf('.') + 1)}`;
  const key = stack.keyOf.secrets[secretArn];
  return {
    service: 'secretsmanager',
    action,
    resources: [{ action, resource: secretArn }],
    // Secrets Manager decrypts the secret with its KMS key on the caller's behalf, with the secret's ARN as
    // encryption context ("Secret encryption and decryption in AWS Secrets Manager", Secrets Manager User Guide).
    kms:
      key === undefined
        ? []
        : [
            {
              key,
              context: {
                'kms:ViaService': viaService('secretsmanager'),
                'kms:CallerAccount': LOCAL_ACCOUNT,
                'kms:EncryptionContext:SecretARN': secretArn,
              },
            },
          ],
  };
}

/** A Step Functions call on a state machine or an execution (`AWSStepFunctions.<Operation>`). */
export function stepFunctionsCall(operation: string, resource: string): AwsCall {
  const action = `states:${operation}`;
  return { service: 'states', action, resources: [{ action, resource }], kms: [] };
}

/** Lambda's Invoke (`lambda:InvokeFunction` on the function), with the caller's source where a service calls. */
export function lambdaInvokeCall(functionArn: string, context?: Record<string, string>): AwsCall {
  const action = 'lambda:InvokeFunction';
  return {
    service: 'lambda',
    action,
    resources: [{ action, resource: functionArn }],
    kms: [],
    ...(context ? { context } : {}),
  };
}
