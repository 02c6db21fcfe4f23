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

function initTime(bundle: string, environment: Record<string, string>, runs: number): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const child = spawnSync(process.execPath, ['-e', LOADER, bundle], { env: { PATH: process.env.PATH ?? '', ...environment }, encoding: 'utf8', timeout: 60_000 });
    if (child.status !== 0) throw new Error(`Loading ${bundle} failed: ${child.stderr.split('\n')[0] ?? ''}`);
    times.push(Number(child.stdout));
  }
  return Math.round([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number * 100) / 100;
}

async function bundle(name: string, entryPoint: string, properties: NonNullable<LocalFunctionDefinition['build']>, outRoot: string): Promise<string> {
  await build(esbuildOptions(name, { ...properties, EntryPoints: [entryPoint], Minify: true }, outRoot));
  return join(outRoot, name, entryPoint.endsWith('.ts') ? `${entryPoint.split('/').at(-1)?.replace(/\.ts$/, '')}.js` : 'handler.js');
}

export async function measureColdStarts(definitions: LocalFunctionDefinition[], environment: Record<string, string>, outRoot: string, runs: number): Promise<ColdStartResult> {
  const first = definitions[0];
  if (!first) throw new Error('No function to measure');
  const baselinePath = await bundle('DynamoDbClientOnly', resolve(__dirname, 'baseline-handler.ts'), first.build ?? {}, outRoot);
  const baseline = { bytes: statSync(baselinePath).size, initMs: initTime(baselinePath, { ...first.environment, ...environment }, runs) };
  const functions: ColdStartResult['functions'] = {};
  for (const definition of definitions) {
    const path = await bundle(definition.logicalId, definition.entryPoint, definition.build ?? {}, outRoot);
    const measured = { bytes: statSync(path).size, initMs: initTime(path, { ...definition.environment, ...environment }, runs) };
    functions[definition.logicalId] = { ...measured, initRatio: ratio(measured.initMs, baseline.initMs), sizeRatio: ratio(measured.bytes, baseline.bytes) };
  }
  return { baseline, functions };
}
