/**
 * The template's references as the local stack resolves them: parameters (defaults or overrides),
 * tables and secrets by their local names and ARNs, functions, state machines and roles by local
 * ARNs. One definition for the running stack (backend.ts) and for `npm run invoke`, so a function
 * invoked alone gets exactly the environment it gets inside the stack.
 */
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION, localFunctionArn, localStateMachineArn } from '../aws-local';
import { LocalResolver } from './intrinsics';
import { checkParameterOverrides } from './parameters';
import { resourcesOfType, type CfnTemplate } from './template';

export interface LocalResourceValues {
  /** Template parameter values instead of their defaults. */
  parameterOverrides?: Record<string, string>;
  /** Table logical id → the local table's name. */
  tableNames: Record<string, string>;
  /** Secret logical id → the local secret's ARN. */
  secretArns: Record<string, string>;
  /**
   * Table logical id → its stream's ARN (`!GetAtt Table.StreamArn`), as the running DynamoDB-API server answered
   * it. Without it (nothing running: the template tests) a table with a StreamSpecification resolves to
   * `<table ARN>/stream/*`, every stream the table will have.
   */
  streamArns?: Record<string, string>;
}

export function localResolver(template: CfnTemplate, values: LocalResourceValues): LocalResolver {
  const refs: Record<string, string> = {
    ...checkParameterOverrides(template, values.parameterOverrides ?? {}),
    ...values.tableNames,
    ...values.secretArns,
  };
  const attributes: Record<string, string> = {};
  for (const [logicalId] of resourcesOfType(template, 'AWS::Serverless::Function')) {
    refs[logicalId] = logicalId;
    attributes[`${logicalId}.Arn`] = localFunctionArn(logicalId);
  }
  for (const [logicalId] of resourcesOfType(template, 'AWS::Serverless::StateMachine')) {
    refs[logicalId] = localStateMachineArn(logicalId);
    attributes[`${logicalId}.Arn`] = localStateMachineArn(logicalId);
    attributes[`${logicalId}.Name`] = logicalId;
  }
  for (const [logicalId] of resourcesOfType(template, 'AWS::IAM::Role')) {
    attributes[`${logicalId}.Arn`] = `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:role/${logicalId}`;
  }
  for (const table of Object.keys(values.tableNames)) {
    attributes[`${table}.Arn`] = `arn:${LOCAL_PARTITION}:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${table}`;
  }
  // A stream's ARN is its table's, a label after /stream/ ("StreamArn", AWS::DynamoDB::Table return values).
  for (const [logicalId, table] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    const tableArn = attributes[`${logicalId}.Arn`];
    if (table.Properties?.StreamSpecification !== undefined && tableArn !== undefined)
      attributes[`${logicalId}.StreamArn`] = values.streamArns?.[logicalId] ?? `${tableArn}/stream/*`;
  }
  // Queues have no local server: their ARN and name resolve so the template's policies and alarms do.
  for (const [logicalId] of resourcesOfType(template, 'AWS::SQS::Queue')) {
    attributes[`${logicalId}.Arn`] = `arn:${LOCAL_PARTITION}:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
    attributes[`${logicalId}.QueueName`] = logicalId;
    refs[logicalId] = `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${logicalId}`;
  }
  return new LocalResolver(template, { refs, attributes });
}
