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
  /** Median wall time of the load (what Lambda's init duration is on a quiet host). */
  initMs: number;
  /**
   * Median CPU time (user + system) of the same loads: on a machine shared with other work, descheduled time
   * inflates the wall time of whichever load it falls on, never the CPU time, so this ratio moves less.
   */
  initCpuMs: number;
  /** Bytes in the bundle by package (`zod`, `@aws-sdk/client-dynamodb`) or project file, from esbuild's metafile. */
  composition: Record<string, number>;
}

export interface ColdStartResult {
  baseline: BundleInit;
  functions: Record<string, BundleInit & { initRatio: number; initCpuRatio: number; sizeRatio: number }>;
}

const LOADER = [
  'const wall = performance.now(), cpu = process.cpuUsage();',
  'require(process.argv[1]);',
  'const used = process.cpuUsage(cpu);',
  'process.stdout.write(`${performance.now() - wall} ${(used.user + used.system) / 1000}`);',
].join(' ');

function loadTime(bundle: string, environment: Record<string, string>): { wallMs: number; cpuMs: number } {
  const child = spawnSync(process.execPath, ['-e', LOADER, bundle], {
    env: { PATH: process.env.PATH ?? '', ...environment },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`Loading ${bundle} failed: ${child.stderr.split('\n')[0] ?? ''}`);
  const [wallMs, cpuMs] = child.stdout.split(' ').map(Number);
  return { wallMs: wallMs as number, cpuMs: cpuMs as number };
}

const median = (times: number[]) =>
  Math.round(([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number) * 100) / 100;

/**
 * Median load time of each bundle over `runs` rounds; each round loads every bundle once, the
 * baseline among them, so a change in the machine's background load touches all alike.
 */
function initTimes(
  bundles: { path: string; environment: Record<string, string> }[],
  runs: number,
): { wallMs: number; cpuMs: number }[] {
  const times = bundles.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let run = 0; run < runs; run += 1) {
    for (const [index, item] of bundles.entries()) {
      const { wallMs, cpuMs } = loadTime(item.path, item.environment);
      times[index]?.wall.push(wallMs);
      times[index]?.cpu.push(cpuMs);
    }
  }
  return times.map(({ wall, cpu }) => ({ wallMs: median(wall), cpuMs: median(cpu) }));
}

/** `node_modules/@smithy/core/dist-es/x.js` → `@smithy/core`; a project file stays its path. */
const packageOf = (input: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input;

async function bundle(
  name: string,
  entryPoint: string,
  properties: NonNullable<LocalFunctionDefinition['build']>,
  outRoot: string,
): Promise<{ path: string; composition: Record<string, number> }> {
  const result = await build({
    ...esbuildOptions(name, { ...properties, EntryPoints: [entryPoint], Minify: true }, outRoot),
    metafile: true,
  });
  const path = join(
    outRoot,
    name,
    entryPoint.endsWith('.ts') ? `${entryPoint.split('/').at(-1)?.replace(/\.ts$/, '')}.js` : 'handler.js',
  );
  const output = Object.entries(result.metafile.outputs).find(([file]) => resolve(file) === resolve(path))?.[1];
  const composition: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {}))
    composition[packageOf(input)] = (composition[packageOf(input)] ?? 0) + bytesInOutput;
  // What weighs: packages and files of at least 1 KB in the minified bundle.
  return { path, composition: Object.fromEntries(Object.entries(composition).filter(([, bytes]) => bytes >= 1024)) };
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
      ...(await bundle('DynamoDbClientOnly', resolve(__dirname, 'baseline-handler.ts'), first.build ?? {}, outRoot)),
      environment: { ...first.environment, ...environment },
    },
  ];
  for (const definition of definitions) {
    bundles.push({
      ...(await bundle(definition.logicalId, definition.entryPoint, definition.build ?? {}, outRoot)),
      environment: { ...definition.environment, ...environment },
    });
  }
  const measured: BundleInit[] = initTimes(bundles, runs).map(({ wallMs, cpuMs }, index) => ({
    bytes: statSync(bundles[index]?.path as string).size,
    initMs: wallMs,
    initCpuMs: cpuMs,
    composition: bundles[index]?.composition ?? {},
  }));
  const [baseline, ...measuredFunctions] = measured as [BundleInit, ...BundleInit[]];
  const functions: ColdStartResult['functions'] = {};
  for (const [index, definition] of definitions.entries()) {
    const item = measuredFunctions[index] as BundleInit;
    functions[definition.logicalId] = {
      ...item,
      initRatio: ratio(item.initMs, baseline.initMs),
      initCpuRatio: ratio(item.initCpuMs, baseline.initCpuMs),
      sizeRatio: ratio(item.bytes, baseline.bytes),
    };
  }
  return { baseline, functions };
}
