/**
 * OpenVAS / Greenbone XML reports (GMP `get_reports` with the XML report format: root `<report>`,
 * the report itself nested in it, one `<result>` a finding under `<results>`), read as a stream with
 * the XML driver (xml-stream.ts: sax in strict mode; a DOCTYPE, an undeclared entity, nesting past the
 * import limit and a truncated file are refused there). Memory holds one chunk, one result being read
 * (every element's text capped) and a key per finding so far (spool.ts: the findings are spooled to a
 * temporary file): results of one host and NVT need not be adjacent (a report is sorted by severity),
 * so they are merged at the end.
 */
import { TEXT_LIMITS } from '../../functions/shared/core/finding-schema';
import { draftsOf, findingOf } from './draft';
import { utf8Text } from './input';
import type { MappingOptions } from './mapping';
import { SpooledFindingMerger } from './spool';
import { isoDateOf, openvasDraftOf, type OpenvasResult } from './openvas';
import { NotAScanExportError, type ParseStats, type ScanRecord } from './records';
import { readXml, xmlRootOf, type XmlHandlers } from './xml-stream';

export const OPENVAS_ROOTS = ['report', 'get_reports_response'];
const MAX_ELEMENT_TEXT = Math.max(...Object.values(TEXT_LIMITS)) + 1024;

export const recogniseOpenvasXml = (start: string) => OPENVAS_ROOTS.includes(xmlRootOf(start) ?? '');

interface Frame {
  name: string;
  text: string;
}

/** One `<result>` as read: texts by path below it (`nvt/name`), and the refs and severities with their attributes. */
interface ResultDraft {
  texts: Map<string, string>;
  oid?: string | undefined;
  refs: { id: string; type: string }[];
  /** `nvt/severities/severity` type → its vector. */
  vectors: Map<string, string>;
}

/** `summary=…|insight=…|cvss_base_vector=AV:N/…` → map (values may hold `|` not followed by a key). */
export function tagsOf(tags: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of (tags ?? '').split(/\|(?=[a-z_]+=)/)) {
    const at = part.indexOf('=');
    if (at > 0)
      map.set(
        part.slice(0, at).trim(),
        part
          .slice(at + 1)
          .replace(/\s*\n\s*/g, '\n')
          .trim(),
      );
  }
  return map;
}

function resultOf(draft: ResultDraft, scanStart: Date | undefined): OpenvasResult {
  const text = (path: string) => draft.texts.get(path)?.trim() || undefined;
  const tags = tagsOf(text('nvt/tags'));
  const tag = (name: string) => tags.get(name) || undefined;
  const refsOf = (type: string) => draft.refs.filter((ref) => ref.type.toLowerCase() === type).map((ref) => ref.id);
  const vector =
    draft.vectors.get('cvss_base_v4') ??
    draft.vectors.get('cvss_base_v3') ??
    draft.vectors.get('cvss_base_v2') ??
    tag('cvss_base_vector');
  return {
    ip: text('host'),
    hostname: text('host/hostname'),
    port: text('port'),
    oid: draft.oid,
    name: text('nvt/name'),
    family: text('nvt/family'),
    threat: text('threat'),
    score: text('severity'),
    vector,
    summary: tag('summary'),
    solution: text('nvt/solution') ?? tag('solution'),
    evidence: text('description'),
    cves: [...refsOf('cve'), ...(text('nvt/cve')?.split(/[\s,]+/) ?? [])],
    references: [...refsOf('url'), ...(text('nvt/xref')?.match(/https?:\/\/[^\s,]+/g) ?? [])],
    cwes: refsOf('cwe'),
    scannedAt: scanStart,
  };
}

/**
 * Streams the findings of an OpenVAS XML report. NotAScanExportError when the root is not `<report>`;
 * the driver's MalformedExportError for broken or hostile XML.
 */
export async function* readOpenvasXml(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const stack: Frame[] = [];
  /** Index of the `<result>` being read in the stack, or -1. */
  let resultDepth = -1;
  let result: ResultDraft | undefined;
  let scanStart: Date | undefined;
  const merger = new SpooledFindingMerger();
  try {
    const pathBelowResult = () =>
      stack
        .slice(resultDepth + 1)
        .map((frame) => frame.name)
        .join('/');
    const handlers: XmlHandlers = {
      root: (name) => {
        if (!OPENVAS_ROOTS.includes(name))
          throw new NotAScanExportError(`its XML root is <${name.slice(0, 64)}>, not <report>`);
      },
      open: (tag) => {
        const attributes = tag.attributes as Record<string, string>;
        const parent = stack[stack.length - 1]?.name;
        stack.push({ name: tag.name, text: '' });
        if (result === undefined && tag.name === 'result' && parent === 'results') {
          resultDepth = stack.length - 1;
          result = { texts: new Map(), refs: [], vectors: new Map() };
          return;
        }
        if (result === undefined) return;
        const path = pathBelowResult();
        if (path === 'nvt') result.oid = attributes.oid;
        else if (path === 'nvt/refs/ref' && attributes.id !== undefined)
          result.refs.push({ id: attributes.id, type: attributes.type ?? '' });
        else if (path === 'nvt/severities/severity') result.vectors.set(attributes.type ?? '', '');
      },
      text: (chunk) => {
        const frame = stack[stack.length - 1];
        if (frame !== undefined && frame.text.length < MAX_ELEMENT_TEXT)
          frame.text += chunk.slice(0, MAX_ELEMENT_TEXT - frame.text.length);
      },
      close: (name) => {
        const depth = stack.length - 1;
        const frame = stack[depth];
        if (result !== undefined && depth === resultDepth) {
          stats.items += 1;
          const outcome = openvasDraftOf(resultOf(result, scanStart));
          for (const draft of draftsOf(outcome, `result ${stats.items}`, stats)) merger.add(findingOf(draft, options));
          result = undefined;
          resultDepth = -1;
        } else if (result !== undefined && frame !== undefined) {
          const path = pathBelowResult();
          if (path === 'nvt/severities/severity/value') {
            const type = [...result.vectors.keys()].pop();
            if (type !== undefined) result.vectors.set(type, frame.text.trim());
          } else if (!result.texts.has(path)) result.texts.set(path, frame.text);
        } else if (
          frame !== undefined &&
          (name === 'scan_start' || (name === 'start' && stack[depth - 1]?.name === 'host'))
        ) {
          // The report's scan start comes before its results; a host's start is the fallback.
          scanStart ??= isoDateOf(frame.text.trim());
        }
        stack.pop();
      },
    };
    // Nothing is ready before the end: the findings are merged over the whole report.
    for await (const nothing of readXml<never>(utf8Text(input), handlers, [], 'an OpenVAS report')) yield nothing;
    for (const finding of merger.drain())
      yield { finding, where: `OpenVAS result ${finding.AssetName ?? ''} ${finding.RuleId ?? ''}` };
  } finally {
    merger.close();
  }
}
