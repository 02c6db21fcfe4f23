/**
 * `npm run invoke -- <FunctionLogicalId> [-e events/<file>.json] [-n env-vars.json]`: runs one
 * function as `sam local invoke` does, without Docker, against the stack `npm start` runs in this
 * checkout (see local/lambda/local-invoke.ts). Logs and the REPORT line go to stderr, the result to
 * stdout; exit code 1 when the function failed, 2 on bad arguments.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { endLine, InvokeUsageError, localInvoke, reportLine, startLine } from '../local/lambda/local-invoke';
import { runningStack, stackStatePath } from '../local/stack-state';
import { randomUUID } from 'node:crypto';
import { runMain } from './checks';

const USAGE = `usage: npm run invoke -- <FunctionLogicalId> [-e|--event FILE|-] [-n|--env-vars FILE]
  -e, --event FILE     the event (JSON); - reads it from stdin; default {}
  -n, --env-vars FILE  environment overrides in SAM CLI's format: {"Parameters": {...}, "<FunctionLogicalId>": {...}}
Runs against the stack \`npm start\` runs in this checkout (found through .local/stack.json).`;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch {
    throw new InvokeUsageError(`${what}: cannot read ${path}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvokeUsageError(`${what}: ${path} is not JSON (${(error as Error).message})`);
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        event: { type: 'string', short: 'e' },
        'env-vars': { type: 'string', short: 'n' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`invoke: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [functionId, ...extra] = positionals;
  if (!functionId || extra.length > 0) {
    console.error(
      `invoke: ${functionId ? `unexpected argument ${extra[0]}` : 'a function logical id is required'}\n${USAGE}`,
    );
    return 2;
  }
  const stack = runningStack();
  if (!stack) {
    console.error(
      `invoke: no local stack is running in this checkout (${stackStatePath()} names none): start one with \`npm start\` in another terminal.`,
    );
    return 1;
  }
  const requestId = randomUUID();
  try {
    const event = values.event === undefined ? {} : readJson(values.event, '--event');
    const envVars = values['env-vars'] === undefined ? undefined : readJson(values['env-vars'], '--env-vars');
    process.stderr.write(
      `Invoking ${functionId} against the local stack (pid ${stack.pid}, DynamoDB ${stack.dynamoDbEndpoint})\n${startLine(requestId)}\n`,
    );
    const result = await localInvoke({
      functionId,
      event,
      envVars,
      requestId,
      shellEnvironment: process.env,
      target: {
        dynamoDbEndpoint: stack.dynamoDbEndpoint,
        secretsManagerEndpoint: stack.secretsManagerEndpoint,
        parameterOverrides: stack.parameterOverrides,
      },
      output: (_stream, text) => process.stderr.write(text),
    });
    process.stderr.write(`${endLine(requestId)}\n${reportLine(result.report)}\n`);
    process.stdout.write(`${JSON.stringify(result.payload)}\n`);
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof InvokeUsageError) {
      console.error(`invoke: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

runMain(main);
