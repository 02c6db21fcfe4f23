/** The ingestion ASL and the template agree, every step fails safe, and every machine behind the API answers in time. */
import { properties, readProjectFile } from './support';
import {
  aslOf,
  INTEGRATION_MARGIN_MS,
  MACHINE_MARGIN_SECONDS,
  machinesBehindApi,
  pathBudgets,
  taskWorstCaseSeconds,
  type Asl,
} from './state-machine-budget';

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

const TRANSIENT_ENDS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
  'TransientError',
  // A function that ran out of its Timeout, and one whose runtime died: the service did not answer in time.
  'TimeoutError',
  'Sandbox.Timedout',
  'Lambda.Unknown',
];

test('every machine behind the API answers 503 when a function times out or dies, as ingestion does', () => {
  const behind = [...new Set(machinesBehindApi().map(({ machine }) => machine))].sort();
  expect(behind).toEqual(['IngestStateMachine', 'ScanRunsStateMachine']);
  for (const machine of behind) {
    const machineAsl = aslOf(machine);
    const lambdaTasks = Object.entries(machineAsl.States).filter(([, state]) =>
      state.Resource?.endsWith(':states:::lambda:invoke'),
    );
    expect(lambdaTasks.length).toBeGreaterThanOrEqual(3);
    for (const [name, state] of lambdaTasks) {
      const catcher = (state.Catch ?? []).find((candidate) => candidate.ErrorEquals.includes('Sandbox.Timedout'));
      expect([machine, name, catcher?.ErrorEquals]).toEqual([machine, name, TRANSIENT_ENDS]);
      const answer = machineAsl.States[catcher?.Next ?? ''];
      expect([machine, name, answer?.Parameters?.statusCode]).toEqual([machine, name, 503]);
      // Not retried: a function that used its whole Timeout once would use it again.
      for (const retrier of state.Retry ?? [])
        expect([machine, name, retrier.ErrorEquals.includes('Sandbox.Timedout')]).toEqual([machine, name, false]);
    }
  }
});

test('the time budget: on every route that starts a machine, every path, each Task tried and retried to its timeout, fits in the machine timeout with margin, which ends before API Gateway gives up', () => {
  // API Gateway's integration timeout (timeoutInMillis, at most 29 s) must outlast the execution, so
  // the response template's TIMED_OUT branch answers 504 itself; and since no Lambda can still be
  // running when the machine's budget is spent, no work goes on after the client got its answer. The
  // worst case of the Tasks stays MACHINE_MARGIN_SECONDS below the machine's timeout, so even then the
  // Catch states answer (503) rather than the timeout (504).
  const behind = machinesBehindApi();
  expect(behind.map(({ route }) => route).sort()).toEqual([
    'POST /scans',
    'POST /scans/{runId}/complete',
    'POST /vuln',
  ]);
  for (const { route, machine, timeoutInMillis } of behind) {
    const machineTimeout = aslOf(machine).TimeoutSeconds ?? Infinity;
    expect([route, machineTimeout * 1000 <= timeoutInMillis - INTEGRATION_MARGIN_MS]).toEqual([route, true]);
    const budgets = pathBudgets(machine);
    expect(budgets.length).toBeGreaterThanOrEqual(4);
    for (const { path, seconds } of budgets)
      expect([route, path, seconds, seconds <= machineTimeout - MACHINE_MARGIN_SECONDS]).toEqual([
        route,
        path,
        seconds,
        true,
      ]);
  }
});

test('the worst case is computed from Task timeouts, retries and their waits', () => {
  const state = {
    Type: 'Task',
    Retry: [
      { ErrorEquals: ['A'], MaxAttempts: 0 },
      { ErrorEquals: ['B'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 },
      { ErrorEquals: ['C'], IntervalSeconds: 4, MaxAttempts: 2, BackoffRate: 3, MaxDelaySeconds: 5 },
    ],
  };
  // 5 attempts of 3 s, waits 1 + 2 (B) and 4 + min(12, 5) (C).
  expect(taskWorstCaseSeconds(state, 3)).toBe(5 * 3 + 1 + 2 + 4 + 5);
});
