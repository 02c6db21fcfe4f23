/** The ingestion ASL and the template agree, and every step fails safe. */
import { properties, readProjectFile } from './support';

interface AslState {
  Type: string;
  Resource?: string;
  QueryLanguage?: string;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: Record<string, unknown>;
}
interface Asl {
  QueryLanguage?: string;
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
  for (const [name, state] of Object.entries(asl.States)) expect([name, state.QueryLanguage ?? 'JSONPath']).toEqual([name, 'JSONPath']);
});

test('every ARN in the ASL comes through a substitution', () => {
  expect(text).not.toMatch(/arn:aws/);
  const arns = [...text.matchAll(/"(arn:[^"]*)"/g)].map((match) => match[1] as string);
  for (const arn of arns) expect(arn).toMatch(/^arn:\$\{Partition\}:/);
  for (const [name, state] of tasks) {
    expect([name, state.Resource]).toEqual([name, 'arn:${Partition}:states:::lambda:invoke']);
    expect([name, state.Parameters?.FunctionName]).toEqual([name, expect.stringMatching(/^\$\{[A-Za-z]+FunctionArn\}$/)]);
  }
  expect(substitutions.Partition).toEqual({ Ref: 'AWS::Partition' });
});
