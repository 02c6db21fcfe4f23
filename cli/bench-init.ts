/**
 * `npm run bench:init -- [--runs 9] [--build '{"MainFields":"main"}'] [--only GetFindingsFunction,WriteFunction]`:
 * the cold-start phase of `npm run bench` alone, without the stack: each function's bundle and the
 * DynamoDB-client-only baseline loaded round-robin in fresh processes, their median wall and CPU time, and what
 * each bundle holds beyond the baseline, by package. `--build` overrides BuildProperties for every bundle, the
 * baseline's included, to measure an esbuild option before it goes into the template.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureColdStarts } from '../bench/cold-start';
import { localAwsEnvironment } from '../local/aws-local';
import { loadTemplate } from '../local/cloudformation/template';
import { localFunctionDefinitions } from '../local/lambda/local-invoke';

const { values } = parseArgs({
  options: { runs: { type: 'string' }, build: { type: 'string' }, only: { type: 'string' } },
  strict: true,
});
const runs = Number(values.runs ?? 9);
const override = values.build === undefined ? {} : (JSON.parse(values.build) as Record<string, unknown>);
const only = values.only?.split(',');
const definitions = localFunctionDefinitions(loadTemplate())
  .filter((definition) => !only || only.includes(definition.logicalId))
  .map((definition) => ({ ...definition, build: { ...definition.build, ...override } }));

const outRoot = mkdtempSync(join(tmpdir(), 'bench-init-'));
// No request is sent: the endpoint only has to be well formed for the clients built at init.
measureColdStarts(definitions, localAwsEnvironment('http://127.0.0.1:9'), outRoot, runs)
  .then(({ baseline, functions }) => {
    const kb = (bytes: number) => Math.round(bytes / 1024);
    console.log(`baseline: wall ${baseline.initMs} ms, CPU ${baseline.initCpuMs} ms, ${kb(baseline.bytes)} KB`);
    for (const [name, item] of Object.entries(functions)) {
      const beyond = Object.entries(item.composition)
        .map(([source, bytes]) => [source, bytes - (baseline.composition[source] ?? 0)] as const)
        .filter(([, bytes]) => bytes >= 2048)
        .sort((a, b) => b[1] - a[1])
        .map(([source, bytes]) => `${source} ${kb(bytes)}`);
      console.log(
        `${name}: wall ${item.initMs} ms (${item.initRatio}x), CPU ${item.initCpuMs} ms (${item.initCpuRatio}x), ` +
          `${kb(item.bytes)} KB (${item.sizeRatio}x); beyond the baseline, KB: ${beyond.join(', ')}`,
      );
    }
  })
  .finally(() => rmSync(outRoot, { recursive: true, force: true }));
