/**
 * What the Qualys readers (qualys-csv.ts, qualys-xml.ts) share, so a detection read from the CSV or the
 * XML export gets the same Priority, CVSS and scan time: Qualys's five severity levels, its
 * `score (vector)` cells and its dates.
 */

export const QUALYS_SCANNER = 'qualys';

/**
 * Qualys's five levels (1 minimal, 2 medium, 3 serious, 4 critical, 5 urgent) to our words, as is
 * usual: 5 Critical, 4 High, 3 Medium, 2 Low, 1 Info. Information-gathered QIDs (type `Ig`, `Info`,
 * `Information Gathered`) are INFO whatever their level: Qualys reports them, they are no vulnerability.
 */
const LEVELS: Record<string, string> = { '1': 'Info', '2': 'Low', '3': 'Medium', '4': 'High', '5': 'Critical' };
const INFORMATION_TYPES = new Set(['ig', 'info', 'information gathered']);

export function qualysPriorityOf(level: string | undefined, type: string | undefined): string {
  if (INFORMATION_TYPES.has(type?.trim().toLowerCase() ?? '')) return 'Info';
  const key = level?.trim() ?? '';
  return Object.hasOwn(LEVELS, key) ? (LEVELS[key] as string) : key;
}

/** `8.1 (AV:N/AC:H/…)` → score and vector; a bare score alone; Excel's `'-` is nothing. */
export function scoreAndVectorOf(value: string | undefined): { score?: string; vector?: string } {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\(([^)]*)\))?\s*$/.exec(value ?? '');
  if (!match) return {};
  return { score: match[1] as string, ...(match[2] ? { vector: match[2] } : {}) };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * `2019-07-31T21:57:48Z` (XML), `05/25/2021 07:36:58` (CSV scan report) or `Feb 03, 2026 07:00 AM`
 * (VMDR). The CSV exports state no zone: taken as UTC, so the result does not depend on the machine
 * that reads it.
 */
export function qualysDateOf(value: string | undefined): Date | undefined {
  const text = value?.trim() ?? '';
  if (ISO_INSTANT.test(text)) {
    const instant = new Date(text);
    return Number.isFinite(instant.getTime()) ? instant : undefined;
  }
  let parts: [number, number, number, number, number, number] | undefined;
  const numeric = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  const named = /^([A-Za-z]{3})\w*\s+(\d{1,2}),?\s+(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?$/i.exec(
    text,
  );
  if (numeric) {
    const [, month, day, year, hour, minute, second] = numeric;
    parts = [Number(year), Number(month) - 1, Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0)];
  } else if (named) {
    const [, month, day, year, hour, minute, second, half] = named;
    const monthIndex = MONTHS.indexOf((month as string).toLowerCase());
    if (monthIndex < 0) return undefined;
    let hours = Number(hour ?? 0) % (half ? 12 : 24);
    if (half?.toUpperCase() === 'PM') hours += 12;
    parts = [Number(year), monthIndex, Number(day), hours, Number(minute ?? 0), Number(second ?? 0)];
  }
  if (parts === undefined) return undefined;
  const date = new Date(Date.UTC(...parts));
  return Number.isFinite(date.getTime()) && date.getUTCDate() === parts[2] ? date : undefined;
}

const HTML_ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", nbsp: ' ' };

/** Qualys escapes HTML even inside CDATA (a RESULT quoting a page reads `&lt;!DOCTYPE html`): the text as shown. */
export const decodeHtmlEntities = (text: string) =>
  text.replace(/&(quot|amp|lt|gt|apos|nbsp|#\d{1,6});/gi, (entity, name: string) => {
    if (name.startsWith('#')) {
      const code = Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return HTML_ENTITIES[name.toLowerCase()] ?? entity;
  });

/**
 * The knowledge base's texts (THREAT, IMPACT, SOLUTION) are HTML in CDATA: `<P>` is a paragraph, `<BR>`
 * and a list item a line, a link keeps its text, other tags go, the few entities Qualys writes are decoded.
 */
export function qualysPlainText(html: string | undefined): string | undefined {
  if (html === undefined) return undefined;
  const text = decodeHtmlEntities(
    html
      .replace(/<\s*br\b[^>]*>[ \t]*\n?/gi, '\n')
      .replace(/<\s*\/?\s*(p|pre)\b[^>]*>/gi, '\n\n')
      .replace(/<\s*(li|dt|dd)\b[^>]*>/gi, '\n')
      .replace(/<[^>]*>/g, ''),
  )
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  // Qualys writes N/A where a QID has no impact or solution (information gathered).
  return text === '' || text === 'N/A' ? undefined : text;
}
