/**
 * What the attack and reliability suites observe about the running stack, from the outside: the
 * execution inputs the state machine received, what the findings table holds, and whether an answer
 * or a log line leaks something it must not.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CallResult } from '../../client/mtls';
import type { TestStack } from './local-stack';

/** A marker put in hostile payloads: it must never come back in an error answer nor reach a log line. */
export const CANARY = 'CANARY-b7e1f0c2';

/**
 * Records the input of every execution the gateway's integration started (the StartSyncExecution
 * `input` of each call Step Functions accepted), without changing what runs: what AWS shows in the
 * execution history.
 */
export function recordExecutionInputs(stack: TestStack): { inputs: string[] } {
  const record = { inputs: [] as string[] };
  const machine = stack.stack.backend.stateMachine;
  const start = machine.startSyncExecution.bind(machine);
  machine.startSyncExecution = async (input, name) => {
    const result = await start(input, name);
    record.inputs.push(input);
    return result;
  };
  return record;
}

/** The shape the request mapping template builds; nothing a client sends may add to or change it. */
export const EXECUTION_INPUT_KEYS = ['body', 'principal', 'requestId', 'sourceIp'];
/** The certificate travels once, as its PEM: the workflow parses every field from it. */
export const PRINCIPAL_KEYS = ['certPem'];

/** Every finding of one org, read straight from the table (all pages, bounded). */
export async function storedFindings(stack: TestStack, org: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, never> | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const result = await stack.dynamoDb.send(
      new QueryCommand({
        TableName: stack.tables.FindingsTable,
        KeyConditionExpression: 'Org = :org',
        ExpressionAttributeValues: marshall({ ':org': org }),
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(result.Items ?? []).map((item) => unmarshall(item)));
    startKey = result.LastEvaluatedKey as typeof startKey;
    if (!startKey) break;
  }
  return items;
}

/** How many items the findings table holds in all (every org). */
export async function countAllFindings(stack: TestStack): Promise<number> {
  let count = 0;
  let startKey: Record<string, never> | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const result = await stack.dynamoDb.send(
      new ScanCommand({ TableName: stack.tables.FindingsTable, Select: 'COUNT', ExclusiveStartKey: startKey }),
    );
    count += result.Count ?? 0;
    startKey = result.LastEvaluatedKey as typeof startKey;
    if (!startKey) break;
  }
  return count;
}

/** Signs of internals: a stack frame, a source path, an AWS or Step Functions error name. */
const STACK_FRAME = /\bat [^\s(]+ \(|\bat (?:\/|file:)|\.[cm]?[jt]s:\d+:\d+/;
const AWS_ERROR_NAME =
  /[A-Za-z]+Exception\b|InternalServerError|ProvisionedThroughput|\bStates\.[A-Z]|\bLambda\.[A-Z]|TransientError/;

/** Everything an answer must never hold. */
export function leaksInAnswer(answer: CallResult, clientText: string[] = [CANARY]): string[] {
  const problems: string[] = [];
  const text = answer.body;
  if (text.includes('-----BEGIN')) problems.push('a PEM block');
  if (STACK_FRAME.test(text)) problems.push('a stack frame');
  if (text.includes(process.cwd()) || /node_modules|functions\/|local\//.test(text)) problems.push('a file path');
  if (AWS_ERROR_NAME.test(text)) problems.push('an AWS error name');
  for (const fragment of clientText)
    if (fragment && text.includes(fragment)) problems.push(`client text ${JSON.stringify(fragment.slice(0, 40))}`);
  return problems;
}

/** Everything a log must never hold: a certificate or key, request body text, a stack trace, a source path. */
export function leaksInLog(text: string, bodyText: string[] = [CANARY]): string[] {
  const problems: string[] = [];
  if (text.includes('-----BEGIN') || /MII[A-Za-z0-9+/]{20}/.test(text)) problems.push('a PEM block or DER base64');
  if (STACK_FRAME.test(text)) problems.push('a stack frame');
  if (text.includes(process.cwd())) problems.push('a file path');
  for (const fragment of bodyText)
    if (fragment && text.includes(fragment)) problems.push(`body text ${JSON.stringify(fragment.slice(0, 40))}`);
  return problems;
}

/** A 4xx a client gets: JSON carrying the request id, and nothing of what the client sent. */
export function expectSafeRefusal(
  answer: CallResult,
  status: number,
  clientText: string[] = [CANARY],
): Record<string, unknown> {
  expect(answer.status).toBe(status);
  const body = answer.json() as Record<string, unknown>;
  expect(typeof body.message).toBe('string');
  expect(leaksInAnswer(answer, clientText)).toEqual([]);
  return body;
}

/** A 400: the same, and the request id is in the body (API Gateway's and the workflow's answers both carry it). */
export function expectBadRequest(answer: CallResult, clientText: string[] = [CANARY]): Record<string, unknown> {
  const body = expectSafeRefusal(answer, 400, clientText);
  expect(body.requestId).toEqual(expect.any(String));
  return body;
}
