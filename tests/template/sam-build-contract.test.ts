/**
 * The contract `sam build` holds us to. SAM bundles each function with the esbuild workflow of
 * aws-lambda-builders (aws_lambda_builders/workflows/nodejs_npm_esbuild, read at commit cd41bcf1):
 * it copies the source to a scratch folder (skipping `.aws-sam`, `.git` and every `node_modules`),
 * runs `npm install -q --no-audit --no-save --unsafe-perm --omit=dev` there, and looks for esbuild only
 * in that copy's `node_modules/.bin` and on PATH, so the project's own node_modules never helps.
 * This test does the same with npm's cache (`--offline`, no network), then builds every function
 * with the command line the builder makes from the template's `Metadata.BuildProperties`, and loads
 * each bundle in a plain Node process with nothing to resolve modules from, with the environment of the
 * template `sam build` writes: SAM CLI's esbuild post-processing (EsbuildBundlerManager in
 * samcli/lib/build/bundler.py, ported with its citation in local/cloudformation/sam-build.ts) adds
 * NODE_OPTIONS=--enable-source-maps to every function whose BuildProperties say `Sourcemap`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { esbuildSourcemap, normalizeBuildProperties, samBuiltTemplate } from '../../local/cloudformation/sam-build';
import { functionsAfterGlobals, PROJECT_ROOT, template } from './support';

/** CopySourceAction's excludes, applied at every depth (shutil.ignore_patterns). */
const BUILDER_EXCLUDES = new Set(['.aws-sam', '.git', 'node_modules']);
/** NodejsNpmInstallAction's command; `--offline --no-fund` keep the test off the network. */
const BUILDER_NPM_INSTALL = ['install', '-q', '--no-audit', '--no-save', '--unsafe-perm', '--omit=dev'];
/** SDK clients only the operator tools in cli/ use: no Lambda bundle may carry them. */
const CLI_ONLY_PACKAGES = ['@aws-sdk/client-cloudformation', '@aws-sdk/client-sfn'];

const scratch = mkdtempSync(join(tmpdir(), 'sam-build-contract-'));
const source = join(scratch, 'source');
const artifacts = join(scratch, 'artifacts');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** EsbuildCommandBuilder: entry points, default values, then one flag per (normalised) build property. */
function esbuildArguments(buildProperties: Record<string, unknown>, outdir: string): string[] {
  const config = normalizeBuildProperties(buildProperties);
  const entryPoints = config.entry_points;
  if (!Array.isArray(entryPoints) || entryPoints.length === 0)
    throw new Error('BuildProperties.EntryPoints must be a non-empty list');
  const args = entryPoints.map(String);
  args.push('--bundle', '--platform=node', `--outdir=${outdir}`);
  if (!('target' in config)) args.push('--target=es2020');
  if (!('format' in config)) args.push('--format=cjs');
  if (!('minify' in config)) args.push('--minify');
  for (const [key, value] of Object.entries(config)) {
    if (['bundle', 'platform', 'outdir', 'use_npm_ci', 'entry_points'].includes(key)) continue;
    const flag = `--${key.replaceAll('_', '-')}`;
    if (typeof value === 'boolean') args.push(...(value ? [flag] : []));
    else if (typeof value === 'string') args.push(`${flag}=${value}`);
    else if (Array.isArray(value)) args.push(...value.map((item) => `${flag}:${String(item)}`));
    else throw new Error(`aws-lambda-builders cannot pass BuildProperties ${key}=${JSON.stringify(value)} to esbuild`);
  }
  return args;
}

function installProductionDependencies(): void {
  cpSync(PROJECT_ROOT, source, { recursive: true, filter: (path) => !BUILDER_EXCLUDES.has(basename(path)) });
  const run = spawnSync('npm', [...BUILDER_NPM_INSTALL, '--offline', '--no-fund'], {
    cwd: source,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status === 0) return;
  const output = `${run.stdout}${run.stderr}`;
  if (/ENOTCACHED/.test(output)) {
    throw new Error(
      `npm's cache lacks packages the production install needs (ENOTCACHED). Run \`npm ci\` once with network access, then rerun.\n${output}`,
    );
  }
  throw new Error(`npm install --omit=dev failed in the scratch copy:\n${output}`);
}

/** A variable's value at deploy time where the template alone says it (a literal or a parameter's default), else its name. */
function environmentValue(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const parameter = (value as { Ref?: string }).Ref;
  const fallback = parameter === undefined ? undefined : template.Parameters?.[parameter]?.Default;
  return fallback === undefined ? name : String(fallback);
}

/** The template `sam build` writes to .aws-sam/build, and its functions with Globals applied. */
const built = samBuiltTemplate(template);
const functions = functionsAfterGlobals(built);

beforeAll(installProductionDependencies, 180_000);

test('DEPLOY 1.1 sam build bundles every function from a production-only install, and each bundle loads on its own', () => {
  expect(functions.length).toBeGreaterThan(0);
  // SubprocessEsbuild: the first esbuild in `npm root`/.bin of the copy (then PATH, which a fresh machine lacks).
  const npmRoot = execFileSync('npm', ['root'], { cwd: source, encoding: 'utf8' }).trim();
  const esbuild = join(npmRoot, '.bin', 'esbuild');
  if (!existsSync(esbuild))
    throw new Error('Cannot find esbuild in a production-only install: esbuild must be in package.json "dependencies"');

  for (const [logicalId, props] of functions) {
    const metadata = built.Resources[logicalId]?.Metadata as {
      BuildMethod?: string;
      BuildProperties?: Record<string, unknown>;
    };
    expect([logicalId, metadata.BuildMethod]).toEqual([logicalId, 'esbuild']);
    const outdir = join(artifacts, logicalId);
    const metafile = join(scratch, `${logicalId}.meta.json`);
    const build = spawnSync(
      esbuild,
      [...esbuildArguments(metadata.BuildProperties ?? {}, outdir), `--metafile=${metafile}`, '--log-level=error'],
      {
        cwd: source,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect([logicalId, build.status, build.stderr]).toEqual([logicalId, 0, '']);

    // Lambda loads <file>.js and calls <export> from Handler "file.export"; no node_modules is near the bundle.
    const [file, exported] = String(props.Handler).split('.') as [string, string];
    const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    const env = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, environmentValue(name, value)]),
    );
    const load = spawnSync(
      process.execPath,
      [
        '-e',
        `const m = require(${JSON.stringify(join(outdir, `${file}.js`))}); if (typeof m[${JSON.stringify(exported)}] !== 'function') process.exit(3);`,
      ],
      {
        cwd: outdir,
        env: { ...env, PATH: process.env.PATH, AWS_REGION: 'us-east-1', NODE_PATH: '' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    // (Node 20 prints the AWS SDK's Node-version warning on stderr; only the exit status counts.)
    expect([logicalId, load.status, load.status === 0 ? '' : load.stderr]).toEqual([logicalId, 0, '']);

    const inputs = Object.keys(
      (JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> }).inputs,
    );
    const cliOnly = inputs.filter((input) => CLI_ONLY_PACKAGES.some((name) => input.includes(`node_modules/${name}/`)));
    expect([logicalId, cliOnly]).toEqual([logicalId, []]);
    // The bundle really was made from the copy's own production install.
    expect(inputs.some((input) => input.startsWith('node_modules/'))).toBe(true);

    // CODE 1.16: the map ships next to the bundle, and the built template does not make Node parse it at init.
    expect([logicalId, existsSync(join(outdir, `${file}.js.map`))]).toEqual([logicalId, true]);
    expect([logicalId, env.NODE_OPTIONS ?? '']).not.toEqual([
      logicalId,
      expect.stringContaining('--enable-source-maps'),
    ]);
  }
}, 180_000);

test('DEPLOY 1.6 the port of sam build adds --enable-source-maps exactly where SAM CLI does', () => {
  const withFunction = (buildProperties: Record<string, unknown>, variables?: Record<string, unknown>) => ({
    Resources: {
      Fn: {
        Type: 'AWS::Serverless::Function',
        Metadata: { BuildMethod: 'esbuild', BuildProperties: { EntryPoints: ['app.ts'], ...buildProperties } },
        Properties: variables ? { Environment: { Variables: variables } } : {},
      },
    },
  });
  const nodeOptionsAfterBuild = (buildProperties: Record<string, unknown>, variables?: Record<string, unknown>) =>
    (
      samBuiltTemplate(withFunction(buildProperties, variables)).Resources.Fn?.Properties?.Environment as
        { Variables: Record<string, unknown> } | undefined
    )?.Variables.NODE_OPTIONS;
  // _set_sourcemap_env_from_metadata: joins the existing value (or '') and the flag with a space.
  expect(nodeOptionsAfterBuild({ Sourcemap: true })).toBe(' --enable-source-maps');
  expect(nodeOptionsAfterBuild({ Sourcemap: 'external' })).toBe(' --enable-source-maps');
  expect(nodeOptionsAfterBuild({ Sourcemap: true }, { NODE_OPTIONS: '--max-old-space-size=400' })).toBe(
    '--max-old-space-size=400 --enable-source-maps',
  );
  expect(nodeOptionsAfterBuild({ Sourcemap: true }, { NODE_OPTIONS: '--enable-source-maps' })).toBe(
    '--enable-source-maps',
  );
  expect(nodeOptionsAfterBuild({ Sourcemap: false })).toBeUndefined();
  expect(nodeOptionsAfterBuild({ sourcemap: 'linked' })).toBeUndefined();
  // set_sourcemap_metadata_from_env: the variable without the key turns the maps on.
  const fromEnvironment = samBuiltTemplate(withFunction({}, { NODE_OPTIONS: '--enable-source-maps' }));
  expect(esbuildSourcemap(fromEnvironment.Resources.Fn?.Metadata?.BuildProperties as Record<string, unknown>)).toBe(
    true,
  );
  // Both keys become esbuild's --sourcemap (normalize_build_properties, then EsbuildCommandBuilder).
  expect(esbuildArguments({ EntryPoints: ['a.ts'], sourcemap: 'linked' }, 'out')).toContain('--sourcemap=linked');
  expect(esbuildArguments({ EntryPoints: ['a.ts'], Sourcemap: true }, 'out')).toContain('--sourcemap');
});

test('DEPLOY 1.2 only what the Lambda bundles import is a production dependency; esbuild is one because sam build needs it there', () => {
  const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  expect(Object.keys(manifest.dependencies)).toContain('esbuild');
  expect(Object.keys(manifest.devDependencies)).not.toContain('esbuild');
  // Nothing imports Powertools' commons package directly; logger and tracer bring their own.
  expect(Object.keys(manifest.dependencies)).not.toContain('@aws-lambda-powertools/commons');
});
