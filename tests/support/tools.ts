import { spawnSync } from 'node:child_process';

/**
 * Tests that run a system tool say so plainly when it is missing, instead of failing with ENOENT
 * deep inside an assertion. The tool is still required: the test fails, with the install hint.
 */
export function requireTool(command: string, versionArgs: string[], installHint: string): void {
  const run = spawnSync(command, versionArgs, { encoding: 'utf8', timeout: 30_000 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${command} is not installed: ${installHint}`);
  }
}
