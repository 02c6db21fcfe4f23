/**
 * The XML exports (Nessus, OpenVAS, Qualys) are read with sax in strict mode through this one driver,
 * so every XML format refuses the same hostile input the same way:
 * - a DOCTYPE (sax never reads a DTD: no internal entity is expanded, no external entity or DTD is
 *   fetched; an export has none, so a file with one is refused outright, its own exit code). The one
 *   exception is a format whose real exports name their DTD by URL (Qualys writes
 *   `<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://…/asset_data_report.dtd">`): for its own root, a
 *   DOCTYPE with an external identifier and no internal subset is let through, never fetched, so it
 *   declares nothing and any entity reference still fails as undeclared;
 * - a reference to an undeclared entity (a strict-mode error);
 * - elements nested deeper than IMPORT_LIMITS.maxDepth;
 * - a file that ends inside its root element (truncated).
 */
import sax from 'sax';
import { IMPORT_LIMITS } from './input';
import { MalformedExportError, NotAScanExportError } from './records';

/** `<!DOCTYPE ROOT SYSTEM "uri">` or `… PUBLIC "id" "uri"`: an external identifier only, no `[…]` internal subset. */
const EXTERNAL_ONLY_DOCTYPE =
  /^\s*([A-Za-z_][\w.:-]*)\s+(?:SYSTEM\s+(?:"[^"]*"|'[^']*')|PUBLIC\s+(?:"[^"]*"|'[^']*')\s+(?:"[^"]*"|'[^']*'))\s*$/;

/** Whether a DOCTYPE's text (what follows `<!DOCTYPE`) only names an external DTD, for one of `roots`. */
export function isExternalOnlyDoctype(doctype: string, roots: readonly string[]): boolean {
  const root = EXTERNAL_ONLY_DOCTYPE.exec(doctype)?.[1];
  return root !== undefined && roots.includes(root);
}

/**
 * A copy of an element's text that no longer holds the chunk of the file it was cut from. V8 keeps a
 * substring of 13 characters or more as a view on its parent string, and the parser's texts are cut
 * from the chunk it was given (64 KB), so one short text kept until the end of a read (a Qualys host's
 * DNS name, a glossary entry) would keep its whole chunk alive. Same characters; only the memory it
 * holds differs (concatenating makes a string V8 flattens into a new one when it is sliced).
 */
export const detachedText = (text: string): string => (text.length < 13 ? text : ` ${text}`.slice(1));

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
  /** Roots whose exports may name an external DTD (never read): see isExternalOnlyDoctype. */
  externalDtdRoots: readonly string[] = [],
): AsyncGenerator<T> {
  const parser = sax.parser(true, { trim: false, normalize: false, position: true });
  let depth = 0;
  let sawRoot = false;
  let closedRoot = false;
  parser.ondoctype = (doctype) => {
    if (isExternalOnlyDoctype(doctype, externalDtdRoots)) return;
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

/**
 * The prolog's DOCTYPE (its text after `<!DOCTYPE`, up to the end of the declaration or of the start),
 * if the start of a file has one before its root element.
 */
export function xmlDoctypeOf(start: string): string | undefined {
  const match = /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*<!DOCTYPE((?:[^[>]|\[[\s\S]*?\])*)([\s\S]?)/i.exec(
    start.replace(/^\uFEFF/, ''),
  );
  if (match === null) return undefined;
  // Anything but the closing `>` (an internal subset never closed) stays in the text, so it is no external-only DOCTYPE.
  return match[2] === '>' ? match[1] : `${match[1]}${match[2]}`;
}

/** The root element's name from the start of an XML file (past the declaration, comments and a DOCTYPE), if any. */
export function xmlRootOf(start: string): string | undefined {
  const match = /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE(?:[^[>]|\[[\s\S]*?\])*>)*<([A-Za-z_][\w.:-]*)/.exec(
    start.replace(/^\uFEFF/, ''),
  );
  return match?.[1];
}
