/**
 * Qualys VM scan reports in XML (the "Scan Report" / asset data report a Qualys report template
 * writes: root `<ASSET_DATA_REPORT>`; `HOST_LIST/HOST` with the host's IP, DNS and NetBIOS names and
 * its detections under `VULN_INFO_LIST/VULN_INFO`; `GLOSSARY/VULN_DETAILS_LIST/VULN_DETAILS` with each
 * QID's title, severity level, HTML texts, CVSS and CVEs), the layout DefectDojo's Qualys parser reads
 * (dojo/tools/qualys/parser.py). Read as a stream with the XML driver (xml-stream.ts: sax in strict
 * mode; an internal DTD, an entity, nesting past the import limit and a truncated file are refused
 * there; the `<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://…">` line real exports carry is let through,
 * never fetched).
 *
 * A detection is mapped with its QID's glossary entry, and Qualys writes the glossary after the hosts
 * (some tools before): the detections are spooled to a temporary file (spool.ts), each element's text
 * capped, until the report ends, then mapped and merged by VulnID through the spool again, so memory
 * holds the hosts, the glossary and each finding's key, not the detections or their findings.
 * The mapping is the Qualys CSV reader's (qualys.ts: severity levels, information-gathered QIDs as
 * INFO, `score (vector)` cells, dates), and so is the identity: host, QID, port, protocol and instance
 * (plus the virtual host a web detection names).
 */
import { MAX_CVES, TEXT_LIMITS } from '../../functions/shared/core/finding-schema';
import { draftsOf, findingOf, LeftOut, portOf, type Outcome } from './draft';
import { utf8Text } from './input';
import type { MappingOptions } from './mapping';
import { decodeHtmlEntities, qualysDateOf, qualysPlainText, qualysPriorityOf, scoreAndVectorOf } from './qualys';
import { NotAScanExportError, type ParseStats, type ScanRecord } from './records';
import { Spool, SpooledFindingMerger } from './spool';
import { detachedText, readXml, xmlRootOf, type XmlHandlers } from './xml-stream';

export const QUALYS_XML_ROOT = 'ASSET_DATA_REPORT';
/** The roots whose external DTD is let through, never read (xml-stream.ts): the recogniser's and the reader's one list. */
export const QUALYS_XML_DTD_ROOTS: readonly string[] = [QUALYS_XML_ROOT];
const MAX_ELEMENT_TEXT = Math.max(...Object.values(TEXT_LIMITS)) + 1024;
/** CVEs and reference URLs kept per QID: the finding keeps at most MAX_CVES and its bounded references. */
const MAX_LIST_ITEMS = MAX_CVES;

export const recogniseQualysXml = (start: string) => xmlRootOf(start) === QUALYS_XML_ROOT;

/** Texts by element path below a HOST, a VULN_INFO or a VULN_DETAILS (`CVSS3_SCORE/CVSS3_BASE`); lists keep every item. */
interface Element {
  texts: Map<string, string>;
  lists: Map<string, string[]>;
  /** The element's `id` attribute (VULN_DETAILS `qid_6`). */
  id?: string | undefined;
}

/** Paths below VULN_DETAILS whose every occurrence is kept. */
const LIST_PATHS = new Set([
  'CVE_ID_LIST/CVE_ID/ID',
  'VENDOR_REFERENCE_LIST/VENDOR_REFERENCE/URL',
  'BUGTRAQ_ID_LIST/BUGTRAQ_ID/URL',
]);
/** What a detection's mapping reads: nothing else of a VULN_INFO is kept while the report is read. */
const INFO_PATHS = new Set([
  'QID',
  'TYPE',
  'PORT',
  'PROTOCOL',
  'INSTANCE',
  'FQDN',
  'RESULT',
  'LAST_FOUND',
  'VULN_STATUS',
  'CVSS_FINAL',
  'CVSS3_FINAL',
]);
/** What a detection's mapping reads of its HOST: nothing else of a host is kept while the report is read. */
const HOST_PATHS = new Set(['FQDN', 'DNS', 'IP', 'NETBIOS', 'LAST_SCAN_DATETIME']);
/** A glossary entry with an exploit listed under CORRELATION says an exploit is known. */
const EXPLOIT_PATH = 'CORRELATION/EXPLOITABILITY/EXPLT_SRC/EXPLT_LIST/EXPLT';

const newElement = (id?: string): Element => ({ texts: new Map(), lists: new Map(), id });
const textOf = (element: Element | undefined, path: string) => element?.texts.get(path)?.trim() || undefined;

/** The QID of a glossary entry or a detection: its QID text, else its id attribute without `qid_`. */
const qidOf = (element: Element) => textOf(element, 'QID') ?? element.id?.replace(/^qid_/i, '');

/** Base scores first (as the CSV's `CVSS3 Base`), the detection's final (temporal) score when there is none. */
function cvssPairOf(base: string | undefined, final: string | undefined) {
  const fromBase = scoreAndVectorOf(base);
  return fromBase.score !== undefined ? fromBase : scoreAndVectorOf(final);
}

interface Detection {
  host: Element;
  info: Element;
}

/** What a detection takes from its QID's glossary entry: the same for every detection of the QID, so made once. */
interface GlossaryTexts {
  title: string | undefined;
  family: string | undefined;
  severity: string | undefined;
  cves: readonly string[];
  cvss3Base: string | undefined;
  cvss2Base: string | undefined;
  description: string | undefined;
  solution: string | undefined;
  references: readonly string[];
  knownExploit: true | undefined;
}

function glossaryTextsOf(details: Element | undefined): GlossaryTexts {
  const impact = qualysPlainText(textOf(details, 'IMPACT'));
  const description = [
    qualysPlainText(textOf(details, 'THREAT')),
    impact === undefined ? undefined : `Impact: ${impact}`,
  ]
    .filter((part) => part !== undefined)
    .join('\n\n');
  return {
    title: textOf(details, 'TITLE'),
    family: textOf(details, 'CATEGORY'),
    severity: textOf(details, 'SEVERITY'),
    cves: details?.lists.get('CVE_ID_LIST/CVE_ID/ID') ?? [],
    cvss3Base: textOf(details, 'CVSS3_SCORE/CVSS3_BASE'),
    cvss2Base: textOf(details, 'CVSS_SCORE/CVSS_BASE'),
    description: description || undefined,
    solution: qualysPlainText(textOf(details, 'SOLUTION')),
    references: [
      ...(details?.lists.get('VENDOR_REFERENCE_LIST/VENDOR_REFERENCE/URL') ?? []),
      ...(details?.lists.get('BUGTRAQ_ID_LIST/BUGTRAQ_ID/URL') ?? []),
    ],
    knownExploit: details?.texts.has(EXPLOIT_PATH) === true ? true : undefined,
  };
}

function draftOf({ host, info }: Detection, glossary: GlossaryTexts, reportTime: Date | undefined): Outcome {
  const qid = qidOf(info);
  if (qid === undefined || !/^\d{1,15}$/.test(qid)) return 'the QID is not a whole number';
  // VULN_STATUS Fixed: Qualys saw it remediated (the CSV's Status column).
  if (textOf(info, 'VULN_STATUS')?.toLowerCase() === 'fixed') return new LeftOut('fixed');
  const port = portOf(textOf(info, 'PORT'));
  const protocol = textOf(info, 'PROTOCOL')?.toLowerCase();
  const virtualHost = textOf(info, 'FQDN')?.toLowerCase();
  return {
    host: {
      fqdn: textOf(host, 'FQDN'),
      dnsName: textOf(host, 'DNS'),
      ip: textOf(host, 'IP'),
      name: textOf(host, 'NETBIOS'),
    },
    pluginId: Number(qid),
    title: glossary.title ?? `QID ${qid}`,
    family: glossary.family,
    priority: qualysPriorityOf(glossary.severity, textOf(info, 'TYPE')),
    cves: [...glossary.cves],
    cvss3: cvssPairOf(glossary.cvss3Base, textOf(info, 'CVSS3_FINAL')),
    cvss2: cvssPairOf(glossary.cvss2Base, textOf(info, 'CVSS_FINAL')),
    port,
    protocol,
    description: glossary.description,
    solution: glossary.solution,
    evidence: decodeHtmlEntities(info.texts.get('RESULT') ?? ''),
    references: [...glossary.references],
    knownExploit: glossary.knownExploit,
    location: [port, protocol, textOf(info, 'INSTANCE'), ...(virtualHost === undefined ? [] : [virtualHost])],
    scannedAt:
      qualysDateOf(textOf(info, 'LAST_FOUND')) ?? qualysDateOf(textOf(host, 'LAST_SCAN_DATETIME')) ?? reportTime,
  };
}

/**
 * The findings of a Qualys XML scan report. NotAScanExportError when the root is not
 * `<ASSET_DATA_REPORT>`; the driver's MalformedExportError for broken or hostile XML.
 */
export async function* readQualysXml(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const stack: { name: string; text: string }[] = [];
  const glossary = new Map<string, Element>();
  const hosts: Element[] = [];
  /** Each detection as its host's index in `hosts` and its VULN_INFO. */
  const detections = new Spool<[number, Element]>();
  const merger = new SpooledFindingMerger();
  let reportTime: Date | undefined;
  /** The HOST, VULN_INFO or VULN_DETAILS being read, and its index in the stack. */
  let host: { element: Element; at: number } | undefined;
  let current: { element: Element; at: number; kind: 'info' | 'details' } | undefined;

  const pathBelow = (at: number) =>
    stack
      .slice(at + 1)
      .map((frame) => frame.name)
      .join('/');
  const handlers: XmlHandlers = {
    root: (name) => {
      if (name !== QUALYS_XML_ROOT)
        throw new NotAScanExportError(`its XML root is <${name.slice(0, 64)}>, not <${QUALYS_XML_ROOT}>`);
    },
    open: (tag) => {
      const parent = stack[stack.length - 1]?.name;
      stack.push({ name: tag.name, text: '' });
      if (current !== undefined) return;
      const at = stack.length - 1;
      const id = (tag.attributes as Record<string, string>).id;
      if (tag.name === 'HOST' && parent === 'HOST_LIST') {
        host = { element: newElement(), at };
        hosts.push(host.element);
      } else if (tag.name === 'VULN_INFO' && parent === 'VULN_INFO_LIST' && host !== undefined)
        current = { element: newElement(id), at, kind: 'info' };
      else if (tag.name === 'VULN_DETAILS' && parent === 'VULN_DETAILS_LIST')
        current = { element: newElement(id), at, kind: 'details' };
    },
    text: (chunk) => {
      const frame = stack[stack.length - 1];
      if (frame !== undefined && frame.text.length < MAX_ELEMENT_TEXT)
        frame.text += chunk.slice(0, MAX_ELEMENT_TEXT - frame.text.length);
    },
    close: (name) => {
      const at = stack.length - 1;
      const frame = stack[at] as { name: string; text: string };
      if (current !== undefined && at === current.at) {
        const { element, kind } = current;
        current = undefined;
        if (kind === 'info' && host !== undefined) {
          stats.items += 1;
          detections.write([hosts.length - 1, element]);
        } else if (kind === 'details') {
          const qid = qidOf(element);
          if (qid !== undefined && !glossary.has(qid)) glossary.set(qid, element);
        }
      } else if (current !== undefined) {
        const path = pathBelow(current.at);
        const { element, kind } = current;
        if (LIST_PATHS.has(path)) {
          const value = frame.text.trim();
          const list = element.lists.get(path) ?? [];
          if (value !== '') element.lists.set(path, [...list, detachedText(value)].slice(0, MAX_LIST_ITEMS));
        } else if ((kind === 'details' || INFO_PATHS.has(path)) && !element.texts.has(path))
          // The glossary and the hosts are kept until the end: their texts must not keep the file's chunks.
          element.texts.set(path, kind === 'details' ? detachedText(frame.text) : frame.text);
      } else if (host !== undefined && at === host.at) host = undefined;
      else if (host !== undefined && at === host.at + 1 && HOST_PATHS.has(name))
        host.element.texts.set(name, detachedText(frame.text));
      else if (name === 'GENERATION_DATETIME' && stack[at - 1]?.name === 'HEADER')
        reportTime = qualysDateOf(frame.text.trim());
      stack.pop();
    },
  };
  try {
    for await (const nothing of readXml<never>(utf8Text(input), handlers, [], 'a Qualys report', QUALYS_XML_DTD_ROOTS))
      yield nothing;
    let index = 0;
    const glossaryTexts = new Map<string, GlossaryTexts>();
    for (const [hostIndex, info] of detections.read()) {
      index += 1;
      const detection: Detection = { host: hosts[hostIndex] as Element, info };
      const qid = qidOf(info) ?? '';
      let texts = glossaryTexts.get(qid);
      if (texts === undefined) {
        texts = glossaryTextsOf(glossary.get(qid));
        glossaryTexts.set(qid, texts);
      }
      const outcome = draftOf(detection, texts, reportTime);
      for (const draft of draftsOf(outcome, `VULN_INFO ${index}`, stats)) merger.add(findingOf(draft, options));
    }
    detections.close();
    for (const finding of merger.drain())
      yield { finding, where: `Qualys XML ${finding.AssetName ?? ''} QID ${finding.PluginId ?? ''}` };
  } finally {
    detections.close();
    merger.close();
  }
}
