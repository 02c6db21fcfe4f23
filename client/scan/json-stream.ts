/**
 * A streaming JSON reader for the JSON exports (Trivy, Grype, OSV-Scanner, Inspector, Security Hub):
 * it checks the whole document's syntax as it goes and hands out only the values at the paths a
 * reader selects (`Results.*.Vulnerabilities.*`), each parsed on its own. Memory holds one chunk,
 * the path and one selected value, whatever the file's size.
 *
 * Written here rather than taken from npm: the readers need a depth limit and a bound on one
 * selected value, checked before the value is built, plus the end of a container as an event; the
 * maintained streaming parsers (stream-json, @streamparser/json) offer neither bound, and wrapping
 * them would take a second tokenizer. A selected value's text is handed to JSON.parse, so values are
 * decoded by the runtime's own parser; this module only finds where they start and end.
 *
 * Refusals (MalformedExportError, each with its kind): nesting deeper than IMPORT_LIMITS.maxDepth,
 * a selected value (or a key) longer than IMPORT_LIMITS.maxRecordBytes, input that ends inside the
 * document (truncated), anything else that is not JSON.
 */
import { IMPORT_LIMITS } from './input';
import { MalformedExportError, NotAScanExportError } from './records';

export type JsonPath = (string | number)[];

export interface JsonSelector {
  /** Reported with each value it selects. */
  name: string;
  /** Keys and indexes from the root; `*` stands for any one key or index, `#` for any index of an array. */
  pattern: string[];
  /** Select only a string, number, boolean or null there; a container at that path is read through. */
  primitiveOnly?: boolean;
  /** Report the end of the object or array at that path (its value is not built). */
  end?: boolean;
  /**
   * Read through a container at that path without selecting it, so the selectors of its members apply
   * (a selector listed before a wider one wins: `["findings"]` through before `["*"]`).
   */
  through?: boolean;
}

export type JsonSelection =
  { kind: 'value'; name: string; path: JsonPath; value: unknown } | { kind: 'end'; name: string; path: JsonPath };

export interface JsonLimits {
  maxDepth: number;
  /** Characters of one selected value or key (text is counted in UTF-16 units, close to bytes for exports). */
  maxValueChars: number;
}

const DEFAULT_LIMITS: JsonLimits = { maxDepth: IMPORT_LIMITS.maxDepth, maxValueChars: IMPORT_LIMITS.maxRecordBytes };

const enum Expect {
  /** A value (top level, after `:` or in an array after `,`). */
  Value,
  /** A value or `]` right after `[`. */
  ValueOrClose,
  /** A key or `}` right after `{`. */
  KeyOrClose,
  /** A key after `,` in an object. */
  Key,
  Colon,
  /** `,` or the container's closer after a value; at the top level, only blanks. */
  CommaOrClose,
}

interface Frame {
  array: boolean;
  /** The current key (object) or index (array). */
  key: string | number;
}

const isBlank = (code: number) => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
const PRIMITIVE_TEXT = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/;

/** The tokenizer: feed text with write(), then end(). Selected values and container ends go to `emit`. */
export class JsonScanner {
  private readonly stack: Frame[] = [];
  private expect: Expect = Expect.Value;
  /** Inside a string: 0 no, 1 in it, 2 right after a backslash. */
  private inString = 0;
  /** The string being read is a key whose text is needed (outside a captured value). */
  private stringIsKey = false;
  /** The string being read is a key inside a captured value: JSON.parse reads it, so it is only skipped. */
  private skippedKey = false;
  private keyText = '';
  /** Text of a number or literal being read. */
  private atom: string | undefined;
  private done = false;
  private sawValue = false;
  /** The selected value being captured: its text so far and the depth it started at. */
  private capture: { selector: JsonSelector; path: JsonPath; text: string; depth: number } | undefined;
  /** Where the capture's text starts in the chunk being read. */
  private captureFrom = 0;
  private chunk = '';
  private readonly lengths: Set<number>;
  private started = false;

  constructor(
    private readonly selectors: JsonSelector[],
    private readonly emit: (selection: JsonSelection) => void,
    private readonly limits: JsonLimits = DEFAULT_LIMITS,
    /** Called with each key's path (indexes as `*`), for recognising a format from a file's start. */
    private readonly onKey?: (path: string[]) => void,
  ) {
    this.lengths = new Set(selectors.map((selector) => selector.pattern.length));
  }

  private fail(message: string, kind: 'malformed' | 'too-deep' | 'record-too-large' = 'malformed'): never {
    throw new MalformedExportError(message, kind);
  }

  private path(): JsonPath {
    return this.stack.map((frame) => frame.key);
  }

  private matches(selector: JsonSelector, path: JsonPath): boolean {
    const { pattern } = selector;
    return (
      pattern.length === path.length &&
      pattern.every(
        (part, index) => part === '*' || part === path[index] || (part === '#' && typeof path[index] === 'number'),
      )
    );
  }

  /** A value starts at `index`: capture it when a selector wants it. */
  private valueStarts(container: boolean, index: number): void {
    this.sawValue = true;
    if (this.capture !== undefined || !this.lengths.has(this.stack.length)) return;
    const path = this.path();
    const selector = this.selectors.find(
      (candidate) => !candidate.end && !(container && candidate.primitiveOnly) && this.matches(candidate, path),
    );
    if (selector === undefined || (selector.through && container)) return;
    this.capture = { selector, path, text: '', depth: this.stack.length };
    this.captureFrom = index;
  }

  /** Appends the chunk's text up to `to` (exclusive) to the capture, within the bound. */
  private flushCapture(to: number): void {
    const capture = this.capture;
    if (capture === undefined) return;
    if (to > this.captureFrom) capture.text += this.chunk.slice(this.captureFrom, to);
    this.captureFrom = to;
    if (capture.text.length > this.limits.maxValueChars)
      this.fail(
        `has a record over ${this.limits.maxValueChars} bytes at ${describePath(capture.path)}, larger than a whole request`,
        'record-too-large',
      );
  }

  /** A value ended just before `to` in the chunk: emit it if it is the captured one. */
  private valueEnds(to: number): void {
    const capture = this.capture;
    if (capture !== undefined && capture.depth === this.stack.length) {
      if (to >= 0) this.flushCapture(to);
      this.capture = undefined;
      let value: unknown;
      try {
        value = JSON.parse(capture.text);
      } catch {
        this.fail(`is not valid JSON (the value at ${describePath(capture.path)} does not parse)`);
      }
      this.emit({ kind: 'value', name: capture.selector.name, path: capture.path, value });
    }
    this.expect = Expect.CommaOrClose;
    if (this.stack.length === 0) this.done = true;
  }

  private open(array: boolean): void {
    if (this.stack.length >= this.limits.maxDepth)
      this.fail(`nests arrays and objects more than ${this.limits.maxDepth} levels deep; no export does`, 'too-deep');
    this.stack.push({ array, key: array ? 0 : '' });
    this.expect = array ? Expect.ValueOrClose : Expect.KeyOrClose;
  }

  private close(index: number): void {
    this.stack.pop();
    // The container's own path: the keys of its parents (its own frame held the key inside it).
    const path = this.path();
    if (this.capture === undefined && this.lengths.has(path.length)) {
      for (const selector of this.selectors)
        if (selector.end && this.matches(selector, path)) this.emit({ kind: 'end', name: selector.name, path });
    }
    this.valueEnds(index + 1);
  }

  private endAtom(to: number): void {
    const text = this.atom as string;
    this.atom = undefined;
    if (!PRIMITIVE_TEXT.test(text)) this.fail(`is not valid JSON (unexpected "${text.slice(0, 20)}")`);
    this.valueEnds(to);
  }

  private unexpected(code: number): never {
    this.fail(`is not valid JSON (unexpected "${String.fromCharCode(code)}" at ${describePath(this.path())})`);
  }

  write(text: string): void {
    this.chunk = text;
    this.captureFrom = 0;
    let index = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) index = 1;
    }
    const length = text.length;
    for (; index < length; index += 1) {
      const code = text.charCodeAt(index);
      if (this.inString !== 0) {
        if (this.inString === 2) {
          if (this.stringIsKey) this.keyText += text[index];
          this.inString = 1;
          continue;
        }
        // Jump to the next quote or backslash: strings are most of an export.
        let next = index;
        while (next < length) {
          const c = text.charCodeAt(next);
          if (c === 0x22 || c === 0x5c) break;
          next += 1;
        }
        if (this.stringIsKey) {
          this.keyText += text.slice(index, next);
          if (this.keyText.length > this.limits.maxValueChars)
            this.fail(`has a key longer than ${this.limits.maxValueChars} characters`, 'record-too-large');
        }
        index = next;
        if (index >= length) break;
        if (text.charCodeAt(index) === 0x5c) {
          if (this.stringIsKey) this.keyText += '\\';
          this.inString = 2;
          continue;
        }
        // The closing quote.
        this.inString = 0;
        if (this.stringIsKey) this.keyEnds();
        else if (this.skippedKey) {
          this.skippedKey = false;
          this.expect = Expect.Colon;
        } else this.valueEnds(index + 1);
        continue;
      }
      if (this.atom !== undefined) {
        // Letters, digits, signs and dots continue a number or literal.
        if (
          (code >= 0x30 && code <= 0x39) ||
          (code >= 0x61 && code <= 0x7a) ||
          (code >= 0x41 && code <= 0x5a) ||
          code === 0x2e ||
          code === 0x2b ||
          code === 0x2d
        ) {
          this.atom += text[index];
          if (this.atom.length > 64) this.fail('is not valid JSON (a number or literal runs on)');
          continue;
        }
        this.endAtom(index);
      }
      if (isBlank(code)) continue;
      if (this.done) this.fail('is not valid JSON (more text after the document)');
      switch (this.expect) {
        case Expect.KeyOrClose:
        case Expect.Key:
          if (code === 0x22) {
            this.inString = 1;
            // Inside a captured value (and with no one listening for keys) the key's text is not needed.
            if (this.capture !== undefined && this.onKey === undefined) this.skippedKey = true;
            else {
              this.stringIsKey = true;
              this.keyText = '';
            }
            continue;
          }
          if (code === 0x7d && this.expect === Expect.KeyOrClose) {
            this.close(index);
            continue;
          }
          return this.unexpected(code);
        case Expect.Colon:
          if (code !== 0x3a) return this.unexpected(code);
          this.expect = Expect.Value;
          continue;
        case Expect.CommaOrClose: {
          const frame = this.stack[this.stack.length - 1];
          if (frame === undefined) return this.unexpected(code);
          if (code === 0x2c) {
            if (frame.array) {
              frame.key = (frame.key as number) + 1;
              this.expect = Expect.Value;
            } else this.expect = Expect.Key;
            continue;
          }
          if ((code === 0x5d && frame.array) || (code === 0x7d && !frame.array)) {
            this.close(index);
            continue;
          }
          return this.unexpected(code);
        }
        case Expect.ValueOrClose:
        case Expect.Value: {
          if (code === 0x5d && this.expect === Expect.ValueOrClose) {
            this.close(index);
            continue;
          }
          this.valueAt(code, index);
          continue;
        }
      }
    }
    this.flushCapture(length);
    this.chunk = '';
    this.captureFrom = 0;
  }

  private valueAt(code: number, index: number): void {
    this.valueStarts(code === 0x7b || code === 0x5b, index);
    if (code === 0x7b) this.open(false);
    else if (code === 0x5b) this.open(true);
    else if (code === 0x22) {
      this.inString = 1;
      this.stringIsKey = false;
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39) || code === 0x74 || code === 0x66 || code === 0x6e)
      this.atom = String.fromCharCode(code);
    else this.unexpected(code);
  }

  private keyEnds(): void {
    let key: string;
    try {
      key = JSON.parse(`"${this.keyText}"`) as string;
    } catch {
      this.fail('is not valid JSON (a key does not parse)');
    }
    const frame = this.stack[this.stack.length - 1] as Frame;
    frame.key = key;
    this.keyText = '';
    this.stringIsKey = false;
    this.expect = Expect.Colon;
    this.onKey?.(this.stack.map((f) => (f.array ? '*' : String(f.key))));
  }

  /** The input ended: anything still open means the file was cut short. */
  end(): void {
    // A number or literal at the top level ends with the input (its text is already captured).
    if (this.atom !== undefined && this.stack.length === 0 && this.inString === 0) this.endAtom(-1);
    if (!this.sawValue) throw new NotAScanExportError('it holds no JSON value');
    if (!this.done)
      throw new MalformedExportError(
        `ends inside its JSON document (at ${describePath(this.path())}): the file is truncated`,
        'truncated',
      );
  }
}

export function describePath(path: JsonPath): string {
  if (path.length === 0) return 'the top level';
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${part.slice(0, 40)}`))
    .join('')
    .replace(/^\./, '');
}

/** Streams the values of `input` at the selected paths (and the ends of selected containers), in document order. */
export async function* selectJson(
  input: AsyncIterable<string>,
  selectors: JsonSelector[],
  limits: JsonLimits = DEFAULT_LIMITS,
): AsyncGenerator<JsonSelection> {
  const ready: JsonSelection[] = [];
  const scanner = new JsonScanner(selectors, (selection) => ready.push(selection), limits);
  for await (const text of input) {
    scanner.write(text);
    if (ready.length > 0) yield* ready.splice(0, ready.length);
  }
  scanner.end();
  yield* ready.splice(0, ready.length);
}

/**
 * The key paths in the start of a JSON file (indexes as `*`, joined with `.`, at most `depth` keys
 * deep), for recognising a format by its top-level keys. Undefined when the start is not JSON; a
 * start cut short is fine.
 */
export function jsonKeyPaths(start: string, depth = 3): Set<string> | undefined {
  const trimmed = start.replace(/^\uFEFF/, '').trimStart();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  const paths = new Set<string>();
  const scanner = new JsonScanner(
    [],
    () => undefined,
    DEFAULT_LIMITS,
    (path) => {
      if (path.filter((part) => part !== '*').length <= depth) paths.add(path.join('.'));
    },
  );
  try {
    scanner.write(trimmed);
  } catch {
    return paths.size > 0 ? paths : undefined;
  }
  return paths;
}
