/**
 * Runs `task` over `items` with at most `limit` tasks in flight; resolves when all have settled
 * successfully, rejects with the first failure (tasks already started still run to completion,
 * no new ones start).
 *
 * @example
 * ```ts
 * await forEachConcurrently(keys, 16, async (key) => { await store.delete(key) })
 * ```
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]
      try {
        await task(item)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const workers: Promise<void>[] = []
  for (let i = 0; i < Math.min(limit, items.length); i++) workers.push(worker())
  // allSettled first: every worker's rejection is observed, so none becomes unhandled.
  const results = await Promise.allSettled(workers)
  for (const result of results) if (result.status === 'rejected') throw result.reason
}
