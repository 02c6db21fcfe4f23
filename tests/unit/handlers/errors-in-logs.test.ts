/** Failures leave the handlers without stack traces, and are logged once without one. */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { REFERENCE_NORMALIZED } from '../../support/findings';
import { captureLogs, dynamoDb, lambdaContext, setHandlerEnvironment, type CapturedLogs } from '../../support/lambda';

let write: typeof import('../../../functions/write/handler').handler;
let logs: CapturedLogs;

beforeAll(async () => {
  setHandlerEnvironment();
  ({ handler: write } = await import('../../../functions/write/handler'));
});

beforeEach(() => {
  dynamoDb.reset();
  logs = captureLogs();
});

afterEach(() => logs.restore());

const STACK_FRAME = /\n\s+at /;

test('an unexpected failure is logged once, by name and message, with no stack trace in the log or the thrown error', async () => {
  dynamoDb.on(GetItemCommand).resolves({});
  dynamoDb.on(UpdateItemCommand).rejects(new Error('ValidationException: One or more parameter values were invalid'));
  const error = (await write({ requestId: 'r-1', findings: [REFERENCE_NORMALIZED] }, lambdaContext()).catch(
    (e: unknown) => e,
  )) as Error;
  expect(error.name).toBe('Error');
  expect(error.stack).not.toMatch(STACK_FRAME);
  const unexpected = logs.lines().filter((line) => line.message === 'unexpected error');
  expect(unexpected).toEqual([expect.objectContaining({ level: 'ERROR', errorName: 'Error', requestId: 'r-1' })]);
  expect(logs.text()).not.toMatch(STACK_FRAME);
});

test('an expected workflow error (a 400) is not logged as unexpected, and carries no stack either', async () => {
  const error = (await write({ requestId: 'r-2', findings: [] }, lambdaContext()).catch((e: unknown) => e)) as Error;
  expect(error.stack).not.toMatch(STACK_FRAME);
  expect(logs.text()).not.toMatch(STACK_FRAME);
});
