/**
 * What `sam build` does for this template, without the SAM CLI: bundles every function with esbuild using the settings in template.yaml's
 * `Metadata.BuildProperties` (the single source `sam build` also reads) into dist/<FunctionId>/.
 * `npm run build` (cli/build.ts) writes them; CI proves every handler bundles for the Lambda runtime without the SAM CLI.
 */
import { build, type BuildOptions } from 'esbuild';
import { resolve } from 'node:path';
import { loadTemplate, PROJECT_ROOT, resourcesOfType } from '../cloudformation/template';

interface BuildProperties {
  EntryPoints?: string[];
  Target?: string;
  Format?: 'cjs' | 'esm';
  Minify?: boolean;
  Sourcemap?: boolean;
  External?: string[];
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
    sourcemap: properties.Sourcemap ?? false,
    external: properties.External ?? [],
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
