/**
 * Runs `task` over `items` with at most `limit` tasks in flight — the batch helper of remote stores
 * (`getMany`, `setMany`, `clear`). Resolves when every task has succeeded. After a failure no new
 * task starts, the ones in flight run to completion, then it rejects with the first failure (so no
 * work is left running behind the caller and no rejection goes unhandled). A store that must
 * finish the whole batch whatever happens catches inside `task`.
 *
 * @param limit the most tasks in flight at once (an integer >= 1).
 * @param task receives the item and its index in `items`.
 *
 * @example
 * ```ts
 * import { forEachBounded } from '@acache/core'
 *
 * const values = new Array<unknown>(keys.length)
 * await forEachBounded(keys, 16, async (key, i) => {
 *   values[i] = await store.get(key)
 * })
 * ```
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++
      try {
        await task(items[i], i)
      } catch (error) {
        // Caught here, so no worker ever rejects: nothing can become an unhandled rejection.
        failure ??= { error }
      }
    }
  }
  const workers: Promise<void>[] = []
  for (let i = 0; i < Math.min(limit, items.length); i++) workers.push(worker())
  await Promise.all(workers)
  if (failure !== undefined) throw failure.error
}
