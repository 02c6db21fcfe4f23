/**
 * Nessus v2 exports (`.nessus`, root `NessusClientData_v2`), read as a stream with sax in strict
 * mode: one finding per ReportItem of each ReportHost, items of one host with the same plugin, port
 * and protocol merged. Memory holds one chunk and one host's findings, whatever the file's size, and
 * every element's text is capped while it is read.
 *
 * XML entity attacks, deep nesting and truncation are refused by the XML driver (xml-stream.ts).
 */
import { TEXT_LIMITS } from '../../functions/shared/core/finding-schema';
import { findingOf, nessusIdentity, type FindingDraft } from './draft';
import { FindingMerger, type MappingOptions } from './mapping';
import { utf8Text } from './input';
import { NotAScanExportError, noteScanTime, type ParseStats, type ScanRecord } from './records';
import { readXml, type XmlHandlers } from './xml-stream';

export const NESSUS_ROOT = 'NessusClientData_v2';
/** Text kept of one element: the longest field we store, plus room for the truncation marker to be honest. */
const MAX_ELEMENT_TEXT = Math.max(...Object.values(TEXT_LIMITS)) + 1024;

interface ItemDraft {
  attributes: Record<string, string>;
  /** Child element name → texts (cve, xref… repeat). */
  children: Map<string, string[]>;
}

interface HostDraft {
  name: string;
  properties: Map<string, string>;
  items: ItemDraft[];
}

const first = (item: ItemDraft, name: string) => item.children.get(name)?.[0];

function scanDateOf(properties: Map<string, string>): Date | undefined {
  const timestamp = Number(properties.get('HOST_START_TIMESTAMP'));
  if (Number.isFinite(timestamp) && timestamp > 0) return new Date(timestamp * 1000);
  for (const name of ['HOST_START', 'HOST_END']) {
    const parsed = Date.parse(properties.get(name) ?? '');
    if (Number.isFinite(parsed)) return new Date(parsed);
  }
  return undefined;
}

function scanItemOf(host: HostDraft, item: ItemDraft): FindingDraft | string {
  const pluginId = Number(item.attributes.pluginID);
  if (!Number.isInteger(pluginId) || pluginId < 0) return 'pluginID is not a whole number';
  const port = item.attributes.port === undefined ? undefined : Number(item.attributes.port);
  return {
    host: {
      fqdn: host.properties.get('host-fqdn'),
      dnsName: host.name,
      ip: host.properties.get('host-ip'),
      name: host.name,
    },
    pluginId,
    title: item.attributes.pluginName ?? first(item, 'plugin_name') ?? '',
    family: item.attributes.pluginFamily,
    priority: item.attributes.severity ?? first(item, 'risk_factor') ?? '',
    cves: item.children.get('cve') ?? [],
    cvss3: { score: first(item, 'cvss3_base_score'), vector: first(item, 'cvss3_vector') },
    cvss4: { score: first(item, 'cvss4_base_score'), vector: first(item, 'cvss4_vector') },
    cvss2: { score: first(item, 'cvss_base_score'), vector: first(item, 'cvss_vector') },
    port: Number.isInteger(port) ? port : undefined,
    protocol: item.attributes.protocol,
    description: first(item, 'description'),
    solution: first(item, 'solution'),
    evidence: first(item, 'plugin_output'),
    location: [],
    scannedAt: scanDateOf(host.properties),
  };
}

/**
 * Streams the findings of a Nessus export. Throws NotAScanExportError when the root element is not
 * NessusClientData_v2, MalformedExportError for broken XML, a DOCTYPE, deep nesting or a truncated file.
 */
export async function* parseNessus(
  input: AsyncIterable<string | Buffer>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  const ready: ScanRecord[] = [];
  const stack: string[] = [];
  let host: HostDraft | undefined;
  let item: ItemDraft | undefined;
  let property: string | undefined;
  let text = '';

  const handlers: XmlHandlers = {
    root: (name) => {
      if (name !== NESSUS_ROOT)
        throw new NotAScanExportError(`its XML root is <${name.slice(0, 64)}>, not <${NESSUS_ROOT}>`);
    },
    open: (tag) => {
      const attributes = tag.attributes as Record<string, string>;
      const parent = stack[stack.length - 1];
      stack.push(tag.name);
      text = '';
      if (tag.name === 'ReportHost') host = { name: attributes.name ?? '', properties: new Map(), items: [] };
      else if (tag.name === 'ReportItem' && host) item = { attributes, children: new Map() };
      else if (tag.name === 'tag' && parent === 'HostProperties') property = attributes.name;
    },
    // Only leaf text of a ReportItem child or a host property is kept, and only up to the cap.
    text: (chunk) => {
      if (text.length < MAX_ELEMENT_TEXT) text += chunk.slice(0, MAX_ELEMENT_TEXT - text.length);
    },
    close: (name) => {
      stack.pop();
      const parent = stack[stack.length - 1];
      if (name === 'tag' && parent === 'HostProperties' && host && property !== undefined) {
        host.properties.set(property, text.trim());
        property = undefined;
      } else if (item && parent === 'ReportItem') {
        const values = item.children.get(name) ?? [];
        values.push(text.trim());
        item.children.set(name, values);
      } else if (name === 'ReportItem' && host && item) {
        host.items.push(item);
        item = undefined;
        stats.items += 1;
      } else if (name === 'ReportHost' && host) {
        // Host properties come first in an export, but mapping at the host's end does not rely on it.
        const merger = new FindingMerger();
        host.items.forEach((draft, index) => {
          const where = `ReportHost ${JSON.stringify(host?.name.slice(0, 100))}, ReportItem ${index + 1}`;
          const scanItem = scanItemOf(host as HostDraft, draft);
          if (typeof scanItem === 'string') stats.skipped.push({ where, reason: scanItem });
          else {
            noteScanTime(stats, scanItem.scannedAt);
            merger.add(findingOf(scanItem, options, nessusIdentity));
          }
        });
        for (const finding of merger.drain())
          ready.push({ finding, where: `ReportHost ${JSON.stringify(host.name.slice(0, 100))}` });
        host = undefined;
      }
      text = '';
    },
  };
  yield* readXml(utf8Text(input), handlers, ready, 'a Nessus export');
}
