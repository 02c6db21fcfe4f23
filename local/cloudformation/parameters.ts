/**
 * Template parameter values given at start-up, the way SAM CLI takes them: `--parameter-overrides`
 * as `Key=Value` pairs (values may be quoted) or `ParameterKey=Key,ParameterValue=Value`, a list of
 * such strings, or a table (samconfig.toml). The parsing follows SAM CLI's CfnParameterOverridesType
 * (aws/aws-sam-cli, samcli/cli/types.py). Values are checked against the parameter's declaration
 * as CloudFormation checks them (Type Number, MinValue/MaxValue, AllowedValues, AllowedPattern).
 */
import type { CfnTemplate } from './template';

const KEY = `([A-Za-z0-9"']+)`;
const VALUE = `("(?:\\\\.|[^"\\\\]+)*"|'(?:\\\\.|[^'\\\\]+)*'|(?:\\\\.|[^ "\\\\]+)+)`;
const LONG_FORM = new RegExp(`(?:ParameterKey=${KEY},ParameterValue=${VALUE})`, 'g');
const SHORT_FORM = new RegExp(`(?:(?: )${KEY}=${VALUE})`, 'g');

/** Removes wrapping quotes and unescapes `\ `, `\"` and `\'`, as SAM CLI does. */
function unquote(value: string): string {
  const unwrapped =
    value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[0] === value.at(-1)
      ? value.slice(1, -1)
      : value;
  return unwrapped.replace(/\\ /g, ' ').replace(/\\"/g, '"').replace(/\\'/g, "'");
}

function parseString(text: string): Record<string, string> {
  const normalized = ` ${text.trim()}`;
  for (const pattern of [LONG_FORM, SHORT_FORM]) {
    const matches = [...normalized.matchAll(pattern)];
    if (matches.length > 0)
      return Object.fromEntries(matches.map((match) => [unquote(match[1] as string), unquote(match[2] as string)]));
  }
  throw new Error(
    `Parameter overrides "${text}" are not in the form Key=Value (or ParameterKey=Key,ParameterValue=Value)`,
  );
}

/** Parameter overrides from the command line or samconfig.toml: a string, a list of strings or a table. */
export function parseParameterOverrides(value: unknown): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'string') return parseString(value);
  if (Array.isArray(value)) return Object.assign({}, ...value.map((item) => parseParameterOverrides(item)));
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        Array.isArray(item) ? item.map(String).join(',') : String(item),
      ]),
    );
  }
  throw new Error(`Parameter overrides must be a string, a list or a table, not ${typeof value}`);
}

/** The overrides, checked against the template's parameter declarations. */
export function checkParameterOverrides(
  template: CfnTemplate,
  overrides: Record<string, string>,
): Record<string, string> {
  for (const [name, value] of Object.entries(overrides)) {
    const declaration = template.Parameters?.[name];
    if (!declaration) throw new Error(`Parameter override ${name}: template.yaml declares no such parameter`);
    const problem = (what: string) => new Error(`Parameter override ${name}=${value}: ${what}`);
    if (declaration.Type === 'Number') {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number)) throw problem('not a number');
      if (declaration.MinValue !== undefined && number < Number(declaration.MinValue))
        throw problem(`below MinValue ${String(declaration.MinValue)}`);
      if (declaration.MaxValue !== undefined && number > Number(declaration.MaxValue))
        throw problem(`above MaxValue ${String(declaration.MaxValue)}`);
    }
    const allowed = declaration.AllowedValues as unknown[] | undefined;
    if (allowed && !allowed.map(String).includes(value)) throw problem(`not one of ${allowed.join(', ')}`);
    if (
      typeof declaration.AllowedPattern === 'string' &&
      !new RegExp(`^(?:${declaration.AllowedPattern})$`).test(value)
    )
      throw problem(`does not match ${declaration.AllowedPattern}`);
  }
  return overrides;
}
