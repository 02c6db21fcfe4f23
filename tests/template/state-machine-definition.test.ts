/** The ingestion ASL and the template agree, and every step fails safe. */
import { functionsAfterGlobals, openApi, properties, readProjectFile } from './support';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}
interface AslState {
  Type: string;
  Resource?: string;
  QueryLanguage?: string;
  Retry?: Retrier[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: Record<string, unknown>;
}
interface Asl {
  QueryLanguage?: string;
  TimeoutSeconds?: number;
  States: Record<string, AslState>;
}

const text = readProjectFile('statemachine/ingest.asl.json');
const asl = JSON.parse(text) as Asl;
const substitutions = properties('IngestStateMachine').DefinitionSubstitutions as Record<string, unknown>;
const tasks = Object.entries(asl.States).filter(([, state]) => state.Type === 'Task');

test('every ${Key} in the ASL is a DefinitionSubstitutions key, and every key is used', () => {
  const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1] as string));
  expect([...used].sort()).toEqual(Object.keys(substitutions).sort());
});

test('every Task retries transient errors and ends its Catch with States.ALL', () => {
  expect(tasks.length).toBeGreaterThanOrEqual(4);
  for (const [name, state] of tasks) {
    expect([name, (state.Retry ?? []).length > 0]).toEqual([name, true]);
    const catches = state.Catch ?? [];
    expect([name, catches.at(-1)?.ErrorEquals]).toEqual([name, ['States.ALL']]);
    expect(asl.States[catches.at(-1)?.Next as string]).toBeDefined();
  }
});

test('the machine uses JSONPath, which the local interpreter supports, not JSONata', () => {
  expect(asl.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  for (const [name, state] of Object.entries(asl.States))
    expect([name, state.QueryLanguage ?? 'JSONPath']).toEqual([name, 'JSONPath']);
});

test('every ARN in the ASL comes through a substitution', () => {
  expect(text).not.toMatch(/arn:aws/);
  const arns = [...text.matchAll(/"(arn:[^"]*)"/g)].map((match) => match[1] as string);
  for (const arn of arns) expect(arn).toMatch(/^arn:\$\{Partition\}:/);
  for (const [name, state] of tasks) {
    expect([name, state.Resource]).toEqual([name, 'arn:${Partition}:states:::lambda:invoke']);
    expect([name, state.Parameters?.FunctionName]).toEqual([
      name,
      expect.stringMatching(/^\$\{[A-Za-z]+FunctionArn\}$/),
    ]);
  }
  expect(substitutions.Partition).toEqual({ Ref: 'AWS::Partition' });
});

test("the Tasks' Retry blocks are identical, and so are the transient and catch-all ends of their Catch blocks", () => {
  // ASL has no reuse: the copies are kept, and kept equal here.
  const [first, ...others] = tasks.map(([, state]) => state);
  for (const [name, state] of tasks) {
    expect([name, state.Retry]).toEqual([name, first?.Retry]);
    expect([name, state.Catch?.slice(-2)]).toEqual([name, first?.Catch?.slice(-2)]);
  }
  expect(others.length).toBeGreaterThanOrEqual(3);
});

test('Lambda service exceptions are retried, ClientExecutionTimeoutException included (Step Functions best practice)', () => {
  // "Handle Lambda service exceptions", AWS Step Functions Developer Guide.
  const retried = tasks[0]?.[1].Retry?.[0]?.ErrorEquals ?? [];
  for (const error of [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ]) {
    expect(retried).toContain(error);
  }
});

/**
 * Worst case of one Task: each retrier counts its own attempts, so errors that alternate between
 * retriers get every retrier's MaxAttempts; every attempt runs to its function's Timeout and every
 * wait is its longest (FULL jitter only shortens it).
 */
function worstCaseSeconds(retry: Retrier[] | undefined, functionTimeout: number): number {
  let attempts = 1;
  let waits = 0;
  for (const retrier of retry ?? []) {
    const maxAttempts = retrier.MaxAttempts ?? 3;
    attempts += maxAttempts;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      waits += Math.min(
        (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt,
        retrier.MaxDelaySeconds ?? Infinity,
      );
    }
  }
  return attempts * functionTimeout + waits;
}

test('the time budget: every Task and retry fits in the machine timeout, which ends before API Gateway gives up', () => {
  // API Gateway's integration timeout (timeoutInMillis, at most 29 s) must outlast the execution, so
  // the response template's TIMED_OUT branch answers 504 itself; and since no Lambda can still be
  // running when the machine's budget is spent, no work goes on after the client got its answer.
  const integration = (
    openApi().paths['/vuln']?.post as { 'x-amazon-apigateway-integration': { timeoutInMillis: number } }
  )['x-amazon-apigateway-integration'];
  const machineTimeout = asl.TimeoutSeconds ?? Infinity;
  // A second of margin for the answer to travel back.
  expect(machineTimeout * 1000).toBeLessThanOrEqual(integration.timeoutInMillis - 1000);
  const timeouts = new Map(functionsAfterGlobals().map(([logicalId, props]) => [logicalId, Number(props.Timeout)]));
  let total = 0;
  for (const [name, state] of tasks) {
    const functionArn = substitutions[String(state.Parameters?.FunctionName).replace(/^\$\{(.+)\}$/, '$1')] as {
      'Fn::GetAtt'?: [string, string];
    };
    const timeout = timeouts.get(functionArn['Fn::GetAtt']?.[0] ?? '');
    expect([name, Number.isFinite(timeout)]).toEqual([name, true]);
    total += worstCaseSeconds(state.Retry, timeout as number);
  }
  expect(total).toBeLessThanOrEqual(machineTimeout);
});
