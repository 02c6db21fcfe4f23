/**
 * `parameter_overrides` from samconfig.toml, read the way SAM CLI reads its configuration
 * (aws/aws-sam-cli, samcli/lib/config/samconfig.py): the environment's `global.parameters` table,
 * then the command's own table on top. `npm start` is this project's `sam local start-api`, so it
 * reads `[<env>.local_start_api.parameters]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { parseParameterOverrides } from './cloudformation/parameters';

export const START_COMMAND_KEY = 'local_start_api';

export function samconfigParameterOverrides(
  path: string,
  environment = 'default',
  command = START_COMMAND_KEY,
): Record<string, string> {
  if (!existsSync(path)) return {};
  const document = parse(readFileSync(path, 'utf8')) as Record<
    string,
    Record<string, { parameters?: Record<string, unknown> }> | undefined
  >;
  const section = (name: string) => document[environment]?.[name]?.parameters?.parameter_overrides;
  return { ...parseParameterOverrides(section('global')), ...parseParameterOverrides(section(command)) };
}
