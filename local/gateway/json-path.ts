/**
 * The JSONPath subset mapping templates use with `$input.path` and `$input.json`: `$`, `.name`,
 * `['name']` and `[index]`. Anything else is refused loudly, so a template needing more fails as a
 * configuration error instead of rendering something API Gateway would not.
 */
type Step = string | number;

function parsePath(path: string): Step[] {
  if (!path.startsWith('$')) throw new Error(`Unsupported JSONPath ${JSON.stringify(path)}: it must start with $`);
  const steps: Step[] = [];
  const pattern = /\.([A-Za-z_$][\w$-]*)|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*(\d+)\s*\]/y;
  let position = 1;
  while (position < path.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(path);
    if (!match) throw new Error(`Unsupported JSONPath ${JSON.stringify(path)} at ${position}`);
    const [, dotted, singleQuoted, doubleQuoted, index] = match;
    if (index !== undefined) steps.push(Number(index));
    else steps.push((dotted ?? singleQuoted ?? doubleQuoted ?? '').replace(/\\(.)/g, '$1'));
    position = pattern.lastIndex;
  }
  return steps;
}

/** The value at `path` in `document`, or undefined when any step is missing. */
export function evaluateJsonPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const step of parsePath(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof step === 'number') current = Array.isArray(current) ? current[step] : undefined;
    else
      current = Object.prototype.hasOwnProperty.call(current, step)
        ? (current as Record<string, unknown>)[step]
        : undefined;
  }
  return current;
}
