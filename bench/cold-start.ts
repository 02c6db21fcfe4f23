/**
 * Cold start per function: each function bundled as the template says (esbuild Metadata, minified),
 * then loaded in a fresh Node process with its environment, the way an execution environment's init
 * phase loads it; the baseline is a bundle that only builds a DynamoDB client.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { esbuildOptions } from '../local/lambda/bundle';
import type { LocalFunctionDefinition } from '../local/lambda/invoker';
import { ratio } from './stats';

export interface BundleInit {
  bytes: number;
  initMs: number;
}

export interface ColdStartResult {
  baseline: BundleInit;
  functions: Record<string, BundleInit & { initRatio: number; sizeRatio: number }>;
}

const LOADER = `const started = performance.now(); require(process.argv[1]); process.stdout.write(String(performance.now() - started));`;

function loadTime(bundle: string, environment: Record<string, string>): number {
  const child = spawnSync(process.execPath, ['-e', LOADER, bundle], {
    env: { PATH: process.env.PATH ?? '', ...environment },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`Loading ${bundle} failed: ${child.stderr.split('\n')[0] ?? ''}`);
  return Number(child.stdout);
}

const median = (times: number[]) =>
  Math.round(([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number) * 100) / 100;

/**
 * Median load time of each bundle over `runs` rounds; each round loads every bundle once, the
 * baseline among them, so a change in the machine's background load touches all alike.
 */
function initTimes(bundles: { path: string; environment: Record<string, string> }[], runs: number): number[] {
  const times: number[][] = bundles.map(() => []);
  for (let run = 0; run < runs; run += 1) {
    for (const [index, item] of bundles.entries()) times[index]?.push(loadTime(item.path, item.environment));
  }
  return times.map(median);
}

async function bundle(
  name: string,
  entryPoint: string,
  properties: NonNullable<LocalFunctionDefinition['build']>,
  outRoot: string,
): Promise<string> {
  await build(esbuildOptions(name, { ...properties, EntryPoints: [entryPoint], Minify: true }, outRoot));
  return join(
    outRoot,
    name,
    entryPoint.endsWith('.ts') ? `${entryPoint.split('/').at(-1)?.replace(/\.ts$/, '')}.js` : 'handler.js',
  );
}

export async function measureColdStarts(
  definitions: LocalFunctionDefinition[],
  environment: Record<string, string>,
  outRoot: string,
  runs: number,
): Promise<ColdStartResult> {
  const first = definitions[0];
  if (!first) throw new Error('No function to measure');
  const bundles = [
    {
      path: await bundle('DynamoDbClientOnly', resolve(__dirname, 'baseline-handler.ts'), first.build ?? {}, outRoot),
      environment: { ...first.environment, ...environment },
    },
  ];
  for (const definition of definitions) {
    bundles.push({
      path: await bundle(definition.logicalId, definition.entryPoint, definition.build ?? {}, outRoot),
      environment: { ...definition.environment, ...environment },
    });
  }
  const [baselineMs, ...functionMs] = initTimes(bundles, runs);
  const baseline = { bytes: statSync(bundles[0]?.path as string).size, initMs: baselineMs as number };
  const functions: ColdStartResult['functions'] = {};
  for (const [index, definition] of definitions.entries()) {
    const measured = { bytes: statSync(bundles[index + 1]?.path as string).size, initMs: functionMs[index] as number };
    functions[definition.logicalId] = {
      ...measured,
      initRatio: ratio(measured.initMs, baseline.initMs),
      sizeRatio: ratio(measured.bytes, baseline.bytes),
    };
  }
  return { baseline, functions };
}
