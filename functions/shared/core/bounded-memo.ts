/**
 * A memo of a pure function's results, bounded in entries (the oldest entry leaves first), so an
 * execution environment that sees many distinct inputs keeps a fixed amount of memory. Thrown
 * errors are not remembered: a failing input is tried again next time.
 */
export function boundedMemo<K, V>(compute: (key: K) => V, maxEntries: number): (key: K) => V {
  const entries = new Map<K, V>();
  return (key) => {
    if (entries.has(key)) return entries.get(key) as V;
    const value = compute(key);
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as K);
    entries.set(key, value);
    return value;
  };
}
