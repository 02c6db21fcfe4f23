/**
 * README command blocks run as written: the `sh` block under a heading, one `# comment` then one
 * command (continued with backslashes) per step, with the port and the dev PKI swapped for a test
 * stack's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/cloudformation/template';

export interface Step {
  comment: string;
  program: 'npm' | 'curl';
  args: string[];
  /** The command as written (backslash continuations joined), for a block that needs the shell (`$(date ...)`). */
  command: string;
}

/** The steps of the first `sh` block after `heading` (a line of the README, e.g. "## A scanner's week"). */
export function readmeSteps(heading: string): Step[] {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`${heading}\n`);
  const block = start < 0 ? '' : (/```sh\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] ?? '');
  return block
    .trim()
    .split(/\n(?=# )/)
    .map((chunk) => {
      const [comment, ...rest] = chunk.split('\n');
      const command = rest
        .join('\n')
        .replace(/\\\n\s*/g, ' ')
        .trim();
      // Shell words: single-quoted strings or bare words (the README uses no other quoting).
      const [program, ...args] = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
      return { comment: comment as string, program: program as Step['program'], args, command };
    });
}

/** A step's arguments for a stack on `url` whose dev PKI is under `workingDir/.local/pki`. */
export const localArgs = (step: Step, url: string, workingDir: string) =>
  step.args.map((arg) =>
    arg
      .replace('https://localhost:3443', `https://localhost:${new URL(url).port}`)
      .replace(/^\.local\/pki\//, `${join(workingDir, '.local', 'pki')}/`),
  );

/** A step's command, for `bash -c`, for a stack on `url` whose dev PKI is under `workingDir/.local/pki`. */
export const localCommand = (step: Step, url: string, workingDir: string) =>
  step.command
    .replaceAll('https://localhost:3443', `https://localhost:${new URL(url).port}`)
    .replaceAll(' .local/pki/', ` ${join(workingDir, '.local', 'pki')}/`);
