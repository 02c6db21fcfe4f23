/**
 * The XML exports (Nessus, OpenVAS, Qualys) are read with sax in strict mode through this one driver,
 * so every XML format refuses the same hostile input the same way:
 * - a DOCTYPE (sax never reads a DTD: no internal entity is expanded, no external entity or DTD is
 *   fetched; an export has none, so a file with one is refused outright, its own exit code);
 * - a reference to an undeclared entity (a strict-mode error);
 * - elements nested deeper than IMPORT_LIMITS.maxDepth;
 * - a file that ends inside its root element (truncated).
 */
import sax from 'sax';
import { IMPORT_LIMITS } from './input';
import { MalformedExportError, NotAScanExportError } from './records';

export interface XmlHandlers {
  /** The root element's name, before anything else: throw NotAScanExportError when it is not the format's. */
  root(name: string): void;
  open(tag: sax.Tag, depth: number): void;
  text(text: string): void;
  close(name: string, depth: number): void;
}

/**
 * Runs `handlers` over the document and yields what they push onto `ready` after each chunk, so a
 * reader emits findings as soon as it has them (a host, a result) without holding the file.
 */
export async function* readXml<T>(
  input: AsyncIterable<string>,
  handlers: XmlHandlers,
  ready: T[],
  what: string,
): AsyncGenerator<T> {
  const parser = sax.parser(true, { trim: false, normalize: false, position: true });
  let depth = 0;
  let sawRoot = false;
  let closedRoot = false;
  parser.ondoctype = () => {
    throw new MalformedExportError(`has a DOCTYPE; ${what} has none, and DTDs are never processed`, 'xml-dtd');
  };
  parser.onerror = (error) => {
    throw new MalformedExportError(`is not well-formed XML (${error.message.split('\n')[0] ?? 'parse error'})`);
  };
  parser.onopentag = (tag) => {
    if (!sawRoot) {
      sawRoot = true;
      handlers.root(tag.name);
    }
    depth += 1;
    if (depth > IMPORT_LIMITS.maxDepth)
      throw new MalformedExportError(
        `nests elements more than ${IMPORT_LIMITS.maxDepth} levels deep; no export does`,
        'too-deep',
      );
    handlers.open(tag as sax.Tag, depth);
  };
  parser.ontext = (text) => handlers.text(text);
  parser.oncdata = (text) => handlers.text(text);
  parser.onclosetag = (name) => {
    handlers.close(name, depth);
    depth -= 1;
    if (depth === 0) closedRoot = true;
  };
  for await (const chunk of input) {
    parser.write(chunk);
    if (ready.length > 0) yield* ready.splice(0, ready.length);
  }
  if (!sawRoot) throw new NotAScanExportError('holds no XML element');
  if (!closedRoot) throw new MalformedExportError(`ends inside its root element: the file is truncated`, 'truncated');
  parser.close();
  yield* ready.splice(0, ready.length);
}

/** The prolog's DOCTYPE, if the start of a file has one before its root element. */
export function xmlHasDoctype(start: string): boolean {
  return /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*<!DOCTYPE/i.test(start.replace(/^\uFEFF/, ''));
}

/** The root element's name from the start of an XML file (past the declaration, comments and a DOCTYPE), if any. */
export function xmlRootOf(start: string): string | undefined {
  const match = /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE(?:[^[>]|\[[\s\S]*?\])*>)*<([A-Za-z_][\w.:-]*)/.exec(
    start.replace(/^\uFEFF/, ''),
  );
  return match?.[1];
}
