import type { IncomingMessage } from 'node:http';

/** Header or parameter values by name; a null-prototype map, so names like `__proto__` are plain keys. */
export type MultiValues = Record<string, string[]>;

export const emptyMap = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/**
 * The request's headers with the case the client sent, repeated headers kept in order (API Gateway's
 * `multiValueHeaders`); names that differ only in case share the first spelling.
 */
export function rawHeaderValues(request: IncomingMessage): MultiValues {
  const multi = emptyMap<string[]>();
  const spelling = new Map<string, string>();
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] as string;
    const key = spelling.get(name.toLowerCase()) ?? name;
    spelling.set(name.toLowerCase(), key);
    (multi[key] ??= []).push(request.rawHeaders[index + 1] as string);
  }
  return multi;
}

/** The last value of each name, as API Gateway's single-value maps give it. */
export function lastValues(multi: MultiValues): Record<string, string> {
  const single = emptyMap<string>();
  for (const name of Object.keys(multi)) single[name] = multi[name]?.at(-1) as string;
  return single;
}
