/**
 * `npm start`'s options, named as `sam local start-api` names them: `--parameter-overrides` (one or
 * more `Key=Value`, or one quoted string of them), `--config-file` (default samconfig.toml) and
 * `--config-env` (default `default`). Overrides from the command line win over samconfig.toml's
 * `parameter_overrides`, as in SAM CLI. `--bind-address ADDRESS` (opt-in) makes the DynamoDB, Secrets
 * Manager and Step Functions API servers listen on ADDRESS instead of 127.0.0.1, so a container
 * (`sam local invoke`) can reach them; they have no authentication, so the start-up warns. `--no-iam`
 * stops evaluating IAM on the stack's own calls (for debugging a policy; the banner says so).
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseParameterOverrides } from './cloudformation/parameters';
import { PROJECT_ROOT } from './cloudformation/template';
import { samconfigParameterOverrides } from './samconfig';

export interface StartOptions {
  parameterOverrides: Record<string, string>;
  /** Where the overrides came from, for the start-up banner. */
  sources: string[];
  /** `--no-traces` turns the local X-Ray daemon, trace store and trace page off. */
  traces: boolean;
  /** `--no-iam` stops evaluating IAM on the calls the functions and state machines make. */
  iam: boolean;
  /** Set only by `--bind-address`. */
  bindAddress?: string;
}

export function startOptions(argv: string[], projectRoot = PROJECT_ROOT): StartOptions {
  const { values, tokens } = parseArgs({
    args: argv,
    options: {
      'parameter-overrides': { type: 'string', multiple: true },
      'config-file': { type: 'string' },
      'config-env': { type: 'string' },
      'no-traces': { type: 'boolean' },
      'no-iam': { type: 'boolean' },
      'bind-address': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  // `--parameter-overrides A=1 B=2`: the shell splits the pairs; they belong to the option before them.
  const given: string[] = [];
  let collecting = false;
  for (const token of tokens) {
    if (token.kind === 'option') {
      collecting = token.name === 'parameter-overrides';
      if (collecting && token.value !== undefined) given.push(token.value);
    } else if (token.kind === 'positional') {
      if (!collecting)
        throw new Error(`Unexpected argument ${token.value}; did you mean --parameter-overrides ${token.value}?`);
      given.push(token.value);
    }
  }
  const configFile = resolve(projectRoot, values['config-file'] ?? 'samconfig.toml');
  const fromConfig = samconfigParameterOverrides(configFile, values['config-env'] ?? 'default');
  const fromCommandLine = parseParameterOverrides(given);
  const sources = [
    ...(Object.keys(fromConfig).length ? [configFile] : []),
    ...(given.length ? ['--parameter-overrides'] : []),
  ];
  const bindAddress = values['bind-address'];
  if (bindAddress !== undefined && isIP(bindAddress) === 0)
    throw new Error(
      `--bind-address must be an IP address (e.g. 172.17.0.1, Docker's bridge on Linux), not ${JSON.stringify(bindAddress)}`,
    );
  return {
    parameterOverrides: { ...fromConfig, ...fromCommandLine },
    sources,
    traces: values['no-traces'] !== true,
    iam: values['no-iam'] !== true,
    ...(bindAddress ? { bindAddress } : {}),
  };
}
