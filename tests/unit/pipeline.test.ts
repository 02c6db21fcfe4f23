/**
 * CSH 1.5: the pipeline users run as it is (.github/workflows/ci.yml on GitHub Actions, buildspec.yml on
 * CodeBuild). Both parse, run the checks of .ci/run, audit the production dependencies, keep a CycloneDX SBOM
 * and run the attack suite; every `npm run` names a script of package.json, every file a step runs exists and
 * is executable, and nothing needs a secret, so a fork runs it too.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../local/cloudformation/template';

interface WorkflowStep {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { permissions?: unknown; steps: WorkflowStep[] }>;
}
interface Buildspec {
  version: number;
  env?: Record<string, unknown>;
  phases: Record<string, { commands?: string[] }>;
  artifacts: { files: string[] };
}

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const workflowText = read('.github/workflows/ci.yml');
const buildspecText = read('buildspec.yml');
const workflow = parse(workflowText) as Workflow;
const buildspec = parse(buildspecText) as Buildspec;
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
let jestProjects: string[] = [];
beforeAll(async () => {
  const config = (await import(join(PROJECT_ROOT, 'jest.config.js'))) as { projects: { displayName: string }[] };
  jestProjects = config.projects.map((project) => project.displayName);
});

const workflowCommands = Object.values(workflow.jobs).flatMap((job) =>
  job.steps.flatMap((step) =>
    step.run === undefined ? [] : step.run.split('\n').filter((line) => line.trim() !== ''),
  ),
);
const buildspecCommands = Object.values(buildspec.phases).flatMap((phase) => phase.commands ?? []);

/** What a command line needs from the project: the npm scripts it runs, the jest projects, the files it executes. */
function needs(command: string) {
  const words = command.trim().split(/\s+/);
  return {
    scripts: [...command.matchAll(/\bnpm run ([\w:-]+)/g)].map((match) => match[1] as string),
    jestProjects: [...command.matchAll(/--selectProjects ([\w-]+)/g)].map((match) => match[1] as string),
    // A command that starts with a path runs that file (.ci/run, ./script.sh).
    files: words[0] !== undefined && /^\.{0,2}\/|^\.[\w-]+\//.test(words[0]) ? [words[0]] : [],
  };
}

test.each([
  ['.github/workflows/ci.yml', workflowCommands],
  ['buildspec.yml', buildspecCommands],
])('CSH 1.5 %s runs only scripts, projects and files that exist', (_file, commands) => {
  expect(commands.length).toBeGreaterThan(0);
  for (const command of commands) {
    const wanted = needs(command);
    for (const script of wanted.scripts) expect([command, script in scripts]).toEqual([command, true]);
    for (const project of wanted.jestProjects)
      expect([command, jestProjects]).toEqual([command, expect.arrayContaining([project])]);
    for (const file of wanted.files) {
      expect([command, existsSync(join(PROJECT_ROOT, file))]).toEqual([command, true]);
      expect(() => accessSync(join(PROJECT_ROOT, file), constants.X_OK)).not.toThrow();
    }
  }
});

test.each([
  ['.github/workflows/ci.yml', workflowCommands],
  ['buildspec.yml', buildspecCommands],
])('CSH 1.5 %s runs .ci/run, the production audit, a CycloneDX SBOM and the attack suite', (_file, commands) => {
  const runs = (pattern: RegExp) => commands.some((command) => pattern.test(command));
  expect(runs(/^\.ci\/run$/)).toBe(true);
  expect(runs(/^npm audit --omit=dev$/)).toBe(true);
  expect(runs(/^npm sbom --sbom-format cyclonedx --omit=dev\b.*> sbom\.cdx\.json$/)).toBe(true);
  // The attack suite is the jest project `security`, started through its npm script.
  expect(scripts['test:security']).toBe('jest --selectProjects security');
  expect(runs(/^npm run test:security\b/)).toBe(true);
});

test('CSH 1.5 the SBOM is kept as an artifact in both pipelines', () => {
  const upload = Object.values(workflow.jobs)
    .flatMap((job) => job.steps)
    .find((step) => step.uses?.startsWith('actions/upload-artifact@'));
  expect(upload?.with?.path).toBe('sbom.cdx.json');
  expect(upload?.with?.['if-no-files-found']).toBe('error');
  expect(buildspec.artifacts.files).toEqual(['sbom.cdx.json']);
});

test('CSH 1.5 nothing needs a secret: read-only token, no secrets, no parameter store, actions pinned to releases', () => {
  expect(workflow.permissions).toEqual({ contents: 'read' });
  for (const [name, job] of Object.entries(workflow.jobs)) expect([name, job.permissions]).toEqual([name, undefined]);
  expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
  expect(Object.keys(workflow.on)).not.toContain('pull_request_target');
  expect(workflowText).not.toMatch(/secrets\./);
  expect(workflowText).not.toMatch(/\$\{\{\s*github\.token\s*\}\}|GITHUB_TOKEN/);
  for (const step of Object.values(workflow.jobs).flatMap((job) => job.steps)) {
    if (step.uses === undefined) continue;
    expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+\.\d+\.\d+$/);
    if (step.uses.startsWith('actions/checkout@')) expect(step.with?.['persist-credentials']).toBe(false);
  }
  expect(buildspec.version).toBe(0.2);
  expect(Object.keys(buildspec.env ?? {})).toEqual(['variables']);
  expect(JSON.stringify(buildspec)).not.toMatch(/secrets-manager|parameter-store|secretsmanager|resolve:ssm/);
});
