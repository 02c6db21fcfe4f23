/**
 * Builds the functions' bundles once, before any suite starts a stack: on a clean clone every suite
 * would otherwise build the same five bundles at the same moment, and the first stacks would start
 * slowly enough to hit their hooks' timeouts. The cache (.local/lambda) is content-addressed, so this
 * only ever saves work.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function prebuildBundles() {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const script =
    "const b = require('./local/lambda/bundle'); b.localBundles(b.templateBundleRequests()).then(() => undefined)";
  execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: 'inherit', timeout: 300_000 });
}
