/**
 * Everything this process writes to stdout and stderr while capturing: the functions' Powertools
 * logs (their Logger writes to process.stdout) and anything else printed in-process. Tests check
 * that no log line holds a certificate PEM, a request body, a stack trace or a file path.
 */
export interface OutputCapture {
  /** Everything written since the capture started. */
  text(): string;
  /** Puts the original writers back. */
  restore(): void;
}

type Write = typeof process.stdout.write;

export function captureOutput(): OutputCapture {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as Write;
  }
  return {
    text: () => chunks.join(''),
    restore: () => streams.forEach((stream, index) => (stream.write = originals[index] as Write)),
  };
}
