/**
 * Runs `task` for every item with at most `limit` tasks in flight. Resolves once all have settled;
 * `task` must not reject (callers catch inside it, so one failure cannot leave others running
 * unobserved).
 *
 * @example
 * ```ts
 * await forEachBounded(keys, 16, async (key) => { results.set(key, await fetch(key)) })
 * ```
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
