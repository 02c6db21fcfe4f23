/**
 * The Java string behaviour API Gateway's mapping templates rely on. API Gateway runs Apache
 * Velocity on the JVM, so `$util.escapeJavaScript` is commons-lang's
 * `StringEscapeUtils.escapeJavaScript` and `$x.replaceAll(a, b)` is `java.lang.String.replaceAll`
 * (a regular expression and a replacement with `$n` groups and `\` escapes). JavaScript's own
 * `String.prototype.replaceAll` treats a string pattern literally, which would silently change
 * what the template produces, so the gateway's VTL engine routes `replaceAll` here.
 */

const hex = (code: number) => code.toString(16).toUpperCase();

/** commons-lang 2 `StringEscapeUtils.escapeJavaScript`, UTF-16 code unit by code unit as Java does. */
export function escapeJavaScript(value: string): string {
  let out = '';
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code > 0xfff) out += `\\u${hex(code)}`;
    else if (code > 0xff) out += `\\u0${hex(code)}`;
    else if (code > 0x7f) out += `\\u00${hex(code)}`;
    else if (code < 32) {
      const named: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
      out += named[code] ?? (code > 0xf ? `\\u00${hex(code)}` : `\\u000${hex(code)}`);
    } else {
      const char = value[index] as string;
      out += char === "'" ? "\\'" : char === '"' ? '\\"' : char === '\\' ? '\\\\' : char === '/' ? '\\/' : char;
    }
  }
  return out;
}

/**
 * Java `Matcher.appendReplacement` semantics: `$n` inserts group n, `\x` inserts x literally,
 * anything else is literal. Returned as a function so JavaScript's own `$` rules never apply.
 */
function javaReplacement(replacement: string): (match: string, ...groups: unknown[]) => string {
  return (match, ...rest) => {
    const groups = rest.slice(
      0,
      rest.findIndex((item) => typeof item === 'number'),
    );
    let out = '';
    for (let index = 0; index < replacement.length; index++) {
      const char = replacement[index] as string;
      if (char === '\\') {
        index++;
        if (index >= replacement.length) throw new Error('character to be escaped is missing');
        out += replacement[index];
      } else if (char === '$') {
        const digits = /^\d+/.exec(replacement.slice(index + 1))?.[0];
        if (digits === undefined) throw new Error('Illegal group reference');
        const group = Number(digits);
        if (group > groups.length) throw new Error(`No group ${group}`);
        out += group === 0 ? match : ((groups[group - 1] as string | undefined) ?? '');
        index += digits.length;
      } else out += char;
    }
    return out;
  };
}

/** `java.lang.String.replaceAll(regex, replacement)`. */
export function javaReplaceAll(value: string, regex: string, replacement: string): string {
  return value.replace(new RegExp(regex, 'g'), javaReplacement(replacement));
}

/** `java.lang.String.replaceFirst(regex, replacement)`. */
export function javaReplaceFirst(value: string, regex: string, replacement: string): string {
  return value.replace(new RegExp(regex), javaReplacement(replacement));
}
