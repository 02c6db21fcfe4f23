/**
 * Remembers, for `seconds`, that a key had no value. Powertools Parameters caches the values it
 * finds for `maxAge` but not an absence, so without this every request would read each missing
 * key again (the authz table has no revocation for almost every certificate): two DynamoDB reads
 * per authorization that the grant cache was meant to save. A key that appears is seen within
 * `seconds`, the same promise the cache of found values makes (GrantCacheSeconds); 0 remembers
 * nothing. At most `maxEntries` absences are kept, the oldest leaving first.
 */
export function rememberAbsence<T>(
  read: (key: string) => Promise<T | undefined>,
  seconds: number,
  options: { maxEntries?: number; now?: () => number } = {},
): (key: string) => Promise<T | undefined> {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 1024;
  const absentUntil = new Map<string, number>();
  return async (key) => {
    const until = absentUntil.get(key);
    if (until !== undefined) {
      if (now() < until) return undefined;
      absentUntil.delete(key);
    }
    const value = await read(key);
    if ((value === undefined || value === null) && seconds > 0) {
      if (absentUntil.size >= maxEntries) absentUntil.delete(absentUntil.keys().next().value as string);
      absentUntil.set(key, now() + seconds * 1000);
    }
    return value;
  };
}
