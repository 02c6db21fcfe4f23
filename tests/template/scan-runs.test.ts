/** The scan-run workflows and routes (issue 18): substitutions, retries, the time budget, the close's loop, the routes' integrations. */
import { isGetAtt, isRef, logicalIdsOfType, openApi, properties, readProjectFile, subText } from './support';

import { aslOf, MACHINE_MARGIN_SECONDS, pathBudgets, paths, type Asl, type AslState } from './state-machine-budget';

const MACHINES = {
  ScanRunsStateMachine: 'statemachine/scan-runs.asl.json',
  CloseRunStateMachine: 'statemachine/close-run.asl.json',
} as const;
const substitutionsOf = (machine: string) => properties(machine).DefinitionSubstitutions as Record<string, unknown>;
const tasksOf = (asl: Asl) => Object.entries(asl.States).filter(([, state]) => state.Type === 'Task');

test('RUN 1.1 the scan-run machines take every ARN through a substitution, use JSONPath, and every Task retries and ends its Catch with States.ALL', () => {
  for (const machine of Object.keys(MACHINES) as (keyof typeof MACHINES)[]) {
    const text = readProjectFile(MACHINES[machine]);
    const asl = aslOf(machine);
    const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1] as string));
    expect([machine, [...used].sort()]).toEqual([machine, Object.keys(substitutionsOf(machine)).sort()]);
    expect(text).not.toMatch(/arn:aws/);
    for (const [, arn] of text.matchAll(/"(arn:[^"]*)"/g)) expect(arn).toMatch(/^arn:\$\{Partition\}:/);
    expect(asl.QueryLanguage).toBe('JSONPath');
    for (const [name, state] of tasksOf(asl)) {
      expect([machine, name, (state.Retry ?? []).length > 0]).toEqual([machine, name, true]);
      expect([machine, name, state.Catch?.at(-1)?.ErrorEquals]).toEqual([machine, name, ['States.ALL']]);
      expect(asl.States[state.Catch?.at(-1)?.Next as string]).toBeDefined();
    }
  }
});

test('RUN 1.2 opening and completing answer inside the API timeout: every path through the scan-runs machine fits its TimeoutSeconds, which ends before 29 s', () => {
  const asl = aslOf('ScanRunsStateMachine');
  for (const path of ['/scans', '/scans/{runId}/complete']) {
    const integration = (
      openApi().paths[path]?.post as { 'x-amazon-apigateway-integration': { timeoutInMillis: number } }
    )['x-amazon-apigateway-integration'];
    expect((asl.TimeoutSeconds ?? Infinity) * 1000).toBeLessThanOrEqual(integration.timeoutInMillis - 1000);
  }
  const budgets = pathBudgets('ScanRunsStateMachine');
  expect(budgets.length).toBeGreaterThanOrEqual(4);
  for (const { path, seconds } of budgets)
    expect([path, seconds <= (asl.TimeoutSeconds as number) - MACHINE_MARGIN_SECONDS]).toEqual([path, true]);
});

test('RUN 1.3 closing is asynchronous and paged: a STANDARD machine loops page by page, started by StartExecution from the scan-runs machine only after authorization', () => {
  expect(properties('CloseRunStateMachine').Type).toBe('STANDARD');
  const close = aslOf('CloseRunStateMachine');
  const page = Object.entries(close.States).find(
    ([, state]) =>
      state.Type === 'Task' && (state.Parameters?.Payload as { operation?: string } | undefined)?.operation === 'page',
  );
  expect(page).toBeDefined();
  const [pageName, pageState] = page as [string, AslState];
  const choice = close.States[pageState.Next as string] as AslState;
  expect(choice.Type).toBe('Choice');
  expect(choice.Choices?.map((rule) => rule.Next)).toEqual([pageName]);

  const runs = aslOf('ScanRunsStateMachine');
  const [startName, start] = Object.entries(runs.States).find(([, state]) =>
    state.Resource?.endsWith(':states:::states:startExecution'),
  ) as [string, AslState];
  expect(start.Parameters?.StateMachineArn).toBe('${CloseRunStateMachineArn}');
  expect(isRef(substitutionsOf('ScanRunsStateMachine').CloseRunStateMachineArn, 'CloseRunStateMachine')).toBe(true);
  // Every way to the start passes the authorization step first.
  for (const path of paths(runs).filter((candidate) => candidate.includes(startName))) {
    expect(path.indexOf('Check authorization to complete')).toBeGreaterThanOrEqual(0);
    expect(path.indexOf('Check authorization to complete')).toBeLessThan(path.indexOf(startName));
  }
});

test('RUN 1.4 every state machine logs errors without execution data to a log group of its own, and is traced', () => {
  for (const machine of logicalIdsOfType('AWS::Serverless::StateMachine')) {
    const props = properties(machine);
    const logging = props.Logging as {
      Level: string;
      IncludeExecutionData: boolean;
      Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: unknown } }[];
    };
    expect([machine, logging.Level, logging.IncludeExecutionData]).toEqual([machine, 'ERROR', false]);
    expect([
      machine,
      isGetAtt(logging.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn, `${machine}LogGroup`, 'Arn'),
    ]).toEqual([machine, true]);
    expect([machine, props.Tracing]).toEqual([machine, { Enabled: true }]);
  }
});

test('RUN 1.5 the scan routes: the POST routes start the scan-runs machine with their action fixed by the mapping template; GET /scans/{runId} invokes only its function', () => {
  for (const [path, action] of [
    ['/scans', 'open'],
    ['/scans/{runId}/complete', 'complete'],
  ] as const) {
    const integration = openApi().paths[path]?.post?.['x-amazon-apigateway-integration'] as {
      type: string;
      uri: unknown;
      passthroughBehavior: string;
      requestTemplates: Record<string, unknown>;
    };
    expect([path, integration.type, integration.passthroughBehavior]).toEqual([path, 'aws', 'never']);
    expect(subText(integration.uri)).toBe(
      'arn:${AWS::Partition}:apigateway:${AWS::Region}:states:action/StartSyncExecution',
    );
    const template = integration.requestTemplates['application/json'] as {
      'Fn::Sub': [string, Record<string, unknown>];
    };
    expect(template['Fn::Sub'][0]).toContain(`{\\"action\\":\\"${action}\\"`);
    expect(isRef(template['Fn::Sub'][1].StateMachineArn, 'ScanRunsStateMachine')).toBe(true);
  }
  const get = openApi().paths['/scans/{runId}']?.get?.['x-amazon-apigateway-integration'] as {
    type: string;
    uri: unknown;
  };
  expect(get.type).toBe('aws_proxy');
  expect(subText(get.uri)).toContain('${GetScanRunFunction.Arn}');
  const permission = properties('GetScanRunApiPermission');
  expect(isGetAtt(permission.FunctionName, 'GetScanRunFunction', 'Arn')).toBe(true);
  expect(subText(permission.SourceArn)).toBe(
    'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${VulnerabilityApi}/${StageName}/GET/scans/*',
  );
});

test('RUN 1.8 the close starts once: StartExecution carries a name derived from the run, and ExecutionAlreadyExists is success, never retried', () => {
  const runs = aslOf('ScanRunsStateMachine');
  const [, start] = Object.entries(runs.States).find(([, state]) =>
    state.Resource?.endsWith(':states:::states:startExecution'),
  ) as [string, AslState];
  // The name the begin-closing step returns (core/scan-run.ts closeExecutionName): the run id and the pass's start.
  expect(start.Parameters?.['Name.$']).toBe('$.closing.value.executionName');
  const already = ['StepFunctions.ExecutionAlreadyExistsException', 'StepFunctions.ExecutionAlreadyExists'];
  expect(start.Retry?.[0]).toEqual({ ErrorEquals: already, MaxAttempts: 0 });
  expect(start.Catch?.[0]).toMatchObject({ ErrorEquals: already, Next: 'Answer accepted' });
  expect(runs.States['Answer accepted']?.Parameters).toMatchObject({ statusCode: 202 });
  // A start that timed out may have started the close: retried under the same name, then 503, never 500.
  expect(start.Retry?.[1]?.ErrorEquals).toContain('States.Timeout');
  const unavailable = start.Catch?.find((catcher) => catcher.Next === 'Answer service unavailable');
  expect(unavailable?.ErrorEquals).toContain('States.Timeout');
});
