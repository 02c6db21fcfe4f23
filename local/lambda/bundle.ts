/**
 * What `sam build` does for this template, without the SAM CLI: bundles every function with esbuild using the settings in template.yaml's
 * `Metadata.BuildProperties` (the single source `sam build` also reads) into dist/<FunctionId>/.
 * `npm run build` (cli/build.ts) writes them; CI proves every handler bundles for the Lambda runtime without the SAM CLI.
 * The local stack runs the same bundles (`localBundles`, cached under .local/lambda), not the TypeScript sources:
 * what runs locally is what Lambda would load, minification, bundled dependencies and source maps included.
 */
import { build, type BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { esbuildSourcemap } from '../cloudformation/sam-build';
import { loadTemplate, PROJECT_ROOT, resourcesOfType, type CfnResource } from '../cloudformation/template';

export interface BuildProperties {
  EntryPoints?: string[];
  Target?: string;
  Format?: 'cjs' | 'esm';
  Minify?: boolean;
  /** Read as `sam build` reads it: `Sourcemap` and `sourcemap` both give esbuild's sourcemap (sam-build.ts). */
  Sourcemap?: boolean;
  sourcemap?: boolean | 'linked' | 'external' | 'inline' | 'both';
  External?: string[];
  /** esbuild's --main-fields, comma-separated as `sam build` passes it (`module,main`). */
  MainFields?: string;
}

export function esbuildOptions(logicalId: string, properties: BuildProperties, outRoot: string): BuildOptions {
  if (!properties.EntryPoints?.length) throw new Error(`${logicalId} has no BuildProperties.EntryPoints`);
  return {
    entryPoints: properties.EntryPoints.map((entry) => resolve(PROJECT_ROOT, entry)),
    outdir: resolve(outRoot, logicalId),
    bundle: true,
    platform: 'node',
    target: properties.Target ?? 'es2022',
    format: properties.Format ?? 'cjs',
    minify: properties.Minify ?? true,
    sourcemap: esbuildSourcemap(properties as Record<string, unknown>) as BuildOptions['sourcemap'],
    external: properties.External ?? [],
    ...(properties.MainFields === undefined ? {} : { mainFields: properties.MainFields.split(',') }),
    logLevel: 'warning',
  };
}

export async function buildFunctions(outRoot = resolve(PROJECT_ROOT, 'dist')): Promise<string[]> {
  const built: string[] = [];
  for (const [logicalId, resource] of resourcesOfType(loadTemplate(), 'AWS::Serverless::Function')) {
    if (resource.Metadata?.BuildMethod !== 'esbuild') throw new Error(`${logicalId} is not built with esbuild`);
    await build(esbuildOptions(logicalId, resource.Metadata.BuildProperties as BuildProperties, outRoot));
    built.push(logicalId);
  }
  return built;
}

/** What the local stack needs to run a function: its entry point and its template build settings. */
export interface LocalBundleRequest {
  logicalId: string;
  entryPoint: string;
  build: BuildProperties;
}

export const LOCAL_BUNDLE_DIR = resolve(PROJECT_ROOT, '.local/lambda');

interface BundleIndex {
  optionsKey: string;
  file: string;
  /** Every input file esbuild read, with the modification time it had. */
  inputs: Record<string, number>;
}

const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex');

function readIndex(path: string): BundleIndex | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BundleIndex;
  } catch {
    return undefined;
  }
}

function upToDate(index: BundleIndex | undefined, optionsKey: string): index is BundleIndex {
  if (!index || index.optionsKey !== optionsKey || !existsSync(index.file)) return false;
  return Object.entries(index.inputs).every(([input, mtimeMs]) => {
    try {
      return statSync(input).mtimeMs === mtimeMs;
    } catch {
      return false;
    }
  });
}

/** Writes a file so a concurrent reader sees the old or the new one, never half of one. */
function writeAtomically(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.${threadId}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/**
 * Builds once and reuses while no input changed: the index records every input's mtime, and each
 * build lands in a directory named by its content, so concurrent test processes never see a
 * half-written bundle.
 */
async function cachedBuild(name: string, options: BuildOptions, outRoot: string): Promise<string> {
  const optionsKey = sha256(JSON.stringify({ ...options, outdir: undefined }));
  const indexPath = join(outRoot, `${name}.json`);
  const index = readIndex(indexPath);
  if (upToDate(index, optionsKey)) return index.file;

  const placeholder = join(outRoot, name);
  // An input changed while esbuild read it must not be recorded as built: its mtime is taken after the build.
  const buildStartedMs = Date.now();
  const result = await build({
    ...options,
    outdir: placeholder,
    absWorkingDir: PROJECT_ROOT,
    write: false,
    metafile: true,
  });
  const files = result.outputFiles ?? [];
  const directory = join(outRoot, `${name}-${sha256(files.map((file) => file.hash).join()).slice(0, 16)}`);
  if (!existsSync(directory)) {
    const temporary = `${directory}.${process.pid}.${threadId}.tmp`;
    for (const file of files) {
      const target = join(temporary, relative(placeholder, file.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.contents);
    }
    try {
      renameSync(temporary, directory);
    } catch {
      // Another process built the same content first.
      rmSync(temporary, { recursive: true, force: true });
    }
  }
  const entry = files.find((file) => file.path.endsWith('.js'));
  if (!entry) throw new Error(`esbuild wrote no JavaScript for ${name}`);
  const inputs = Object.fromEntries(
    Object.keys(result.metafile?.inputs ?? {}).map((input) => {
      const path = resolve(PROJECT_ROOT, input);
      const { mtimeMs } = statSync(path);
      return [path, mtimeMs >= buildStartedMs - 1000 ? -1 : mtimeMs];
    }),
  );
  const fresh: BundleIndex = { optionsKey, file: join(directory, relative(placeholder, entry.path)), inputs };
  writeAtomically(indexPath, JSON.stringify(fresh));
  return fresh.file;
}

export interface LocalBundles {
  /** The runtime each execution environment starts (local/lambda/runtime.ts). */
  runtimePath: string;
  /** The bundle of each function, by logical id. */
  handlers: Map<string, string>;
}

/**
 * The bundles the local stack runs: each function built from its template settings (minified,
 * with source maps, exactly what `sam build` deploys) plus the runtime that loads them in a worker.
 */
export async function localBundles(requests: LocalBundleRequest[], outRoot = LOCAL_BUNDLE_DIR): Promise<LocalBundles> {
  mkdirSync(outRoot, { recursive: true });
  const runtime = cachedBuild(
    'runtime',
    {
      entryPoints: [resolve(__dirname, 'runtime.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
    },
    outRoot,
  );
  const handlers = await Promise.all(
    requests.map(async (request) => {
      const options = esbuildOptions(
        request.logicalId,
        { ...request.build, EntryPoints: [request.entryPoint] },
        outRoot,
      );
      return [request.logicalId, await cachedBuild(request.logicalId, options, outRoot)] as const;
    }),
  );
  return { runtimePath: await runtime, handlers: new Map(handlers) };
}

/** A function's bundle request, from its template Metadata (what `sam build` reads). */
export function bundleRequestOf(logicalId: string, resource: CfnResource): LocalBundleRequest {
  const build = (resource.Metadata?.BuildProperties ?? {}) as BuildProperties;
  const entryPoint = build.EntryPoints?.[0];
  if (!entryPoint) throw new Error(`${logicalId} has no esbuild EntryPoints in its Metadata`);
  return { logicalId, entryPoint: resolve(PROJECT_ROOT, entryPoint), build };
}

/** Every function's bundle request. */
export function templateBundleRequests(template = loadTemplate()): LocalBundleRequest[] {
  return resourcesOfType(template, 'AWS::Serverless::Function').map(([logicalId, resource]) =>
    bundleRequestOf(logicalId, resource),
  );
}
