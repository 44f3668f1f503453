/**
 * Background work started by `cache()` features (refresh-ahead timers, loads that can be aborted)
 * registers here while it exists, so `bg.shutdown()` can stop all of it in one call. Only work
 * that is under way is held: an idle cached function holds nothing here.
 */

/** Something `bg.shutdown()` stops. */
export interface Stoppable {
  stop(): void
}

const running = new Set<Stoppable>()

/** Registers work that `bg.shutdown()` must stop. */
export function whileRunning(work: Stoppable): void {
  running.add(work)
}

/** Forgets work that has ended by itself. */
export function ended(work: Stoppable): void {
  running.delete(work)
}

/**
 * Stops every refresh-ahead schedule and aborts the signal of every load under way (their callers
 * get the loader's own outcome). Called by `bg.shutdown()`; idempotent.
 *
 * @example
 * process.on('SIGTERM', async () => { await bg.shutdown(); server.close() })
 */
export function stopCacheWork(): void {
  const all = [...running]
  running.clear()
  for (const work of all) {
    try {
      work.stop()
    } catch {
      // One failing stop must not keep the others running.
    }
  }
}
