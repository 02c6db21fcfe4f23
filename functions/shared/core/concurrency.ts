/** How many findings of one batch are written at once: enough to finish 100 quickly, few enough not to self-throttle. */
export const WRITE_CONCURRENCY = 10;

/** Runs `work` on every item with at most `concurrency` at once, in order of start; the first failure rejects. */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) await work(items[index] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
