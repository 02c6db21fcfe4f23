/** What a gateway stage produces for the client: status, headers and a body already rendered. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `work`, or 'timeout' after `ms` (an integration's timeoutInMillis); the timer never outlives the race. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The headers of response parameter mappings (`<prefix>NAME: "'value'"`). Only static values are
 * reproduced: the API maps nothing else into response headers.
 */
export function staticHeaders(
  parameters: Record<string, string>,
  prefix: 'gatewayresponse.header.' | 'method.response.header.',
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    const literal = /^'(.*)'$/.exec(value)?.[1];
    if (name.startsWith(prefix) && literal !== undefined) headers[name.slice(prefix.length)] = literal;
  }
  return headers;
}
