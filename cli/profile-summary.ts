/**
 * `npm run bench:profile -- DIR [--top 25]` (DIR required): for each directory of CPU profiles `npm run bench --
 * --cpu-prof DIR` wrote (main thread, each function's execution environments, the DynamoDB-API
 * server), the busy time and where it went, by package or source file.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { profileFiles, summarizeProfiles } from '../bench/profile-summary';

const { values, positionals } = parseArgs({
  options: { top: { type: 'string' } },
  allowPositionals: true,
  strict: true,
});
if (!positionals[0])
  throw new Error('usage: npm run bench:profile -- DIR [--top 25] (DIR: what npm run bench -- --cpu-prof DIR wrote)');
const dir = resolve(positionals[0]);
const top = Number(values.top ?? 25);
for (const group of readdirSync(dir).filter((name) => statSync(join(dir, name)).isDirectory())) {
  const files = profileFiles(join(dir, group));
  const summary = summarizeProfiles(files, resolve(__dirname, '..'));
  console.log(`\n${group}: busy ${summary.busyMs} ms, idle ${summary.idleMs} ms, ${files.length} profile(s)`);
  for (const { source, ms } of summary.bySource.slice(0, top))
    console.log(
      `${String(ms).padStart(8)} ms  ${((100 * ms) / Math.max(1, summary.busyMs)).toFixed(1).padStart(5)}%  ${source}`,
    );
}
