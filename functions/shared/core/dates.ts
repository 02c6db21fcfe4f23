const US_DATE = /^(\d{2})-(\d{2})-(\d{4})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date (no 02-30, no month 13) as ISO `YYYY-MM-DD`, or null. */
export function toIsoDate(value: string): string | null {
  let year: number;
  let month: number;
  let day: number;
  const us = US_DATE.exec(value);
  const iso = ISO_DATE.exec(value);
  if (us) {
    [month, day, year] = [Number(us[1]), Number(us[2]), Number(us[3])];
  } else if (iso) {
    [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  } else {
    return null;
  }
  if (year < 1900 || year > 9999) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
