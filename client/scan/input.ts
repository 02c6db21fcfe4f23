/**
 * What every reader gets: the export's bytes as checked UTF-8 text, and the bounds that keep a hostile
 * or broken file from costing more than a clear refusal. The framework (read-scan.ts) applies these
 * once for every format, so a reader never sees invalid UTF-8 or a byte-order mark.
 */
import { MAX_BODY_BYTES } from '../../functions/shared/core/limits';
import { MalformedExportError } from './records';

export const IMPORT_LIMITS = {
  /** Nesting of JSON arrays/objects or XML elements: real exports stay under 20. */
  maxDepth: 64,
  /**
   * One record as written (a JSON vulnerability object, a CSV row): the workflow's request limit. A
   * record larger than a whole request is no scanner's output, and refusing it bounds memory.
   */
  maxRecordBytes: MAX_BODY_BYTES,
} as const;

/**
 * Bytes to text with a fatal decoder: invalid UTF-8 refuses the file (one sentence, its own exit code)
 * rather than turning into U+FFFD in findings. A leading byte-order mark is dropped.
 */
export async function* utf8Text(input: AsyncIterable<string | Buffer | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let offset = 0;
  const decode = (bytes?: Uint8Array) => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch {
      throw new MalformedExportError(
        `is not valid UTF-8 text (an invalid byte sequence near byte ${offset}); export it as UTF-8`,
        'invalid-utf8',
      );
    }
  };
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decode(chunk);
    if (typeof chunk !== 'string') offset += chunk.length;
    if (text.length > 0) yield text;
  }
  const rest = decode();
  if (rest.length > 0) yield rest;
}
