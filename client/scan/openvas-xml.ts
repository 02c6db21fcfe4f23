/**
 * OpenVAS / Greenbone XML reports (GMP `get_reports` with the XML report format: root `<report>`,
 * the report itself nested in it, one `<result>` a finding under `<results>`), read as a stream with
 * sax in strict mode. Memory holds one chunk and one result, every element's text capped while read.
 *
 * XML safety as for Nessus: sax never reads a DTD and a report has none, so a DOCTYPE is refused; an
 * undeclared entity is a strict-mode error; elements nested deeper than a report ever is are refused.
 */
import sax from 'sax';
import { TEXT_LIMITS } from '../../functions/shared/core/finding-schema';
import { findingOf, type DraftedFinding } from './draft';
import type { MappingOptions } from './mapping';
import { isoDateOf, openvasDraftOf, type OpenvasResult } from './openvas';
import { MalformedExportError, NotAScanExportError, noteScanTime, type ParseStats, type ScanRecord } from './records';
import { FindingMerger } from './mapping';

export const OPENVAS_ROOTS = ['report', 'get_reports_response'];
/** A report nests about ten deep; a hundred is an attack on the stack, not an export. */
export const MAX_XML_DEPTH = 100;
const MAX_ELEMENT_TEXT = Math.max(...Object.values(TEXT_LIMITS)) + 1024;

/** The root element of the first tag in the start of a file (after the XML declaration and comments). */
export function xmlRootOf(start: string): string | undefined {
  const body = start
    .replace(/^\uFEFF/, '')
    .replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, '')
    .trimStart();
  return /^<([A-Za-z_][\w.-]*)/.exec(body)?.[1];
}

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
 * Streams the findings of an OpenVAS XML report. NotAScanExportError when the root is not `<report>`,
 * MalformedExportError for broken XML, a DOCTYPE or nesting past MAX_XML_DEPTH.
 */
export async function* readOpenvasXml(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const parser = sax.parser(true, { trim: false, normalize: false, position: true });
  const stack: Frame[] = [];
  /** Depth of the `<result>` being read (its frame's index), or -1. */
  let resultDepth = -1;
  let result: ResultDraft | undefined;
  let scanStart: Date | undefined;
  let sawRoot = false;
  const merger = new FindingMerger();

  parser.ondoctype = () => {
    throw new MalformedExportError('has a DOCTYPE; an OpenVAS report has none, and DTDs are never processed');
  };
  parser.onerror = (error) => {
    throw new MalformedExportError(`is not well-formed XML (${error.message.split('\n')[0] ?? 'parse error'})`);
  };
  const pathBelowResult = () =>
    stack
      .slice(resultDepth + 1)
      .map((frame) => frame.name)
      .join('/');
  parser.onopentag = (tag) => {
    if (!sawRoot) {
      sawRoot = true;
      if (!OPENVAS_ROOTS.includes(tag.name))
        throw new NotAScanExportError(`its XML root is <${tag.name.slice(0, 64)}>, not <report>`);
    }
    if (stack.length >= MAX_XML_DEPTH)
      throw new MalformedExportError(`nests elements more than ${MAX_XML_DEPTH} deep; an OpenVAS report never does`);
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
  };
  const onText = (chunk: string) => {
    const frame = stack[stack.length - 1];
    if (frame !== undefined && frame.text.length < MAX_ELEMENT_TEXT)
      frame.text += chunk.slice(0, MAX_ELEMENT_TEXT - frame.text.length);
  };
  parser.ontext = onText;
  parser.oncdata = onText;
  parser.onclosetag = (name) => {
    const depth = stack.length - 1;
    const frame = stack[depth];
    if (result !== undefined && depth === resultDepth) {
      stats.items += 1;
      const draft = openvasDraftOf(resultOf(result, scanStart));
      if (typeof draft === 'string') stats.skipped.push({ where: `result ${stats.items}`, reason: draft });
      else {
        noteScanTime(stats, draft.scannedAt);
        merger.add(findingOf(draft, options));
      }
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
  };

  const decoder = new TextDecoder('utf-8');
  for await (const chunk of input)
    parser.write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  parser.write(decoder.decode());
  parser.close();
  if (!sawRoot) throw new NotAScanExportError('holds no XML element');
  for (const finding of merger.drain())
    yield { finding, where: `OpenVAS result ${finding.AssetName ?? ''} ${(finding as DraftedFinding).RuleId ?? ''}` };
}
