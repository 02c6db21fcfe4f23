/**
 * Writes a synthetic Nessus v2 export of any size (many hosts, many items each, realistic text
 * lengths), for the import's tests and its memory benchmark. Deterministic: the same shape gives the
 * same file. Every item is a distinct finding (host, plugin, port differ), so counts are exact.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface SyntheticShape {
  hosts: number;
  itemsPerHost: number;
  /** Characters of description per item (default 1,200, a typical Nessus description). */
  descriptionChars?: number;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const LOREM = 'The remote host is affected by a vulnerability that allows an attacker to execute code.\n';

function itemXml(host: number, item: number, descriptionChars: number): string {
  const severity = item % 5;
  const cves = Array.from(
    { length: item % 4 },
    (_, n) =>
      `<cve>CVE-20${10 + (item % 14)}-${String(1000 + ((host * 7 + item * 13 + n) % 90000)).padStart(4, '0')}</cve>`,
  ).join('');
  const cvss =
    severity === 0
      ? ''
      : `<cvss3_base_score>${(severity * 2.2).toFixed(1)}</cvss3_base_score><cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>`;
  const description = escapeXml(LOREM.repeat(Math.ceil(descriptionChars / LOREM.length)).slice(0, descriptionChars));
  return (
    `<ReportItem port="${1 + (item % 1024)}" svc_name="www" protocol="${item % 7 === 0 ? 'udp' : 'tcp'}" severity="${severity}" pluginID="${100000 + item}" pluginName="Synthetic plugin ${item} &amp; friends" pluginFamily="General">` +
    `${cves}${cvss}<description>${description}</description><solution>Upgrade to the latest version.</solution>` +
    `<plugin_output>Installed version : 1.${item}\nFixed version : 2.0 (host ${host})</plugin_output></ReportItem>\n`
  );
}

/** Writes the export to `path`; resolves with the number of ReportItems written. */
export async function writeSyntheticNessus(path: string, shape: SyntheticShape): Promise<number> {
  const out = createWriteStream(path);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('<?xml version="1.0" ?>\n<NessusClientData_v2><Report name="synthetic">\n');
  for (let host = 0; host < shape.hosts; host += 1) {
    const octets = `10.${Math.floor(host / 65536) % 256}.${Math.floor(host / 256) % 256}.${host % 256}`;
    await write(
      `<ReportHost name="${octets}"><HostProperties><tag name="host-ip">${octets}</tag><tag name="host-fqdn">host-${host}.synthetic.example</tag>` +
        `<tag name="HOST_START_TIMESTAMP">1700000000</tag></HostProperties>\n`,
    );
    for (let item = 0; item < shape.itemsPerHost; item += 1)
      await write(itemXml(host, item, shape.descriptionChars ?? 1200));
    await write('</ReportHost>\n');
  }
  await write('</Report></NessusClientData_v2>\n');
  out.end();
  await once(out, 'finish');
  return shape.hosts * shape.itemsPerHost;
}
