/**
 * `npm run bench [-- --clients 16 --single-requests 80 --batch-requests 8 --read-findings 10000
 * --read-pages 40 --page-size 100 --cold-start-runs 5 --rounds 4 --close-findings 10000 --sustained-findings 1000
 * --sustained-rounds 2 --triage-requests 8 --out bench/results.json --markdown
 * --cpu-prof DIR]`:
 * runs bench/run.ts, prints the table and the targets, writes the results as JSON.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startMainThreadProfile } from '../bench/cpu-profile';
import { createProgress } from '../bench/progress';
import { DEFAULT_OPTIONS, runBench, type BenchOptions } from '../bench/run';
import { formatTable, resultRows, targetLines } from '../bench/table';
import { discoverStack } from '../local/stack-state';
import { runMain } from './checks';

const flags: Record<string, keyof BenchOptions> = {
  clients: 'clients',
  'single-requests': 'singleRequests',
  'batch-requests': 'batchRequests',
  'batch-size': 'batchSize',
  'read-findings': 'readFindings',
  'read-pages': 'readPages',
  'page-size': 'pageSize',
  'cold-start-runs': 'coldStartRuns',
  'close-findings': 'closeFindings',
  rounds: 'rounds',
  'sustained-findings': 'sustainedFindings',
  'sustained-rounds': 'sustainedRounds',
  'triage-requests': 'triageRequests',
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(flags).map((flag) => [flag, { type: 'string' as const }])),
      out: { type: 'string' },
      markdown: { type: 'boolean' },
      'cpu-prof': { type: 'string' },
    },
    strict: true,
  });
  const options: BenchOptions = { ...DEFAULT_OPTIONS };
  for (const [flag, key] of Object.entries(flags)) {
    const raw = (values as Record<string, unknown>)[flag];
    if (typeof raw !== 'string') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive whole number, not ${raw}`);
    options[key] = value;
  }
  // The bench starts a stack of its own; one that `npm start` runs here competes for the same cores.
  const running = discoverStack();
  if (running)
    console.warn(
      `note: the local stack of pid ${running.pid} (${running.gatewayUrl}) is running too; its load skews these numbers. Stop it for a clean run.`,
    );
  const cpuProfileDir = typeof values['cpu-prof'] === 'string' ? resolve(values['cpu-prof']) : undefined;
  const stopProfile = cpuProfileDir ? await startMainThreadProfile(cpuProfileDir) : undefined;
  const results = await runBench(options, createProgress(), cpuProfileDir ? { cpuProfileDir } : {});
  if (stopProfile) console.log(`CPU profiles: ${cpuProfileDir} (main thread: ${await stopProfile()})`);
  const out = resolve(typeof values.out === 'string' ? values.out : 'bench/results.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${formatTable(resultRows(results), values.markdown === true)}\n`);
  for (const line of targetLines(results)) console.log(line);
  console.log(`\nresults: ${out}`);
  return 0;
}

runMain(main);
