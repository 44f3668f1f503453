/**
 * The engine's clock, in epoch seconds.
 *
 * `now()` is amortised for the hit path: it re-reads `Date.now()` at least every millisecond of
 * wall time (a 1 ms unref'ed timer marks the cached reading old) and at least every
 * {@link READS_PER_CLOCK_READ} calls, whichever comes first. So a cached reading is never more than
 * about a millisecond old, and a hit does not pay for a clock read. `preciseNow()` always reads the
 * clock (used for timestamps that get stored; a value loaded on an in-memory miss is stamped with
 * `now()`, which can only make it expire that much early).
 *
 * Both go through the global `Date.now` and `setTimeout` at call time, so fake timers (jest, sinon)
 * drive them: advancing fake time fires the 1 ms timer and the next read sees the new time.
 */
export const READS_PER_CLOCK_READ = 32

let cached = 0
let budget = 0
let armed = false

function expire(): void {
  armed = false
  budget = 0
}

/** Reads the clock now and restarts the amortisation window. */
export function preciseNow(): number {
  cached = Date.now() / 1000
  budget = READS_PER_CLOCK_READ
  if (!armed) {
    armed = true
    const timer = setTimeout(expire, 1)
    // A cache must never keep the process alive.
    if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') timer.unref()
  }
  return cached
}

/** The current time in epoch seconds, at most ~1 ms old. */
export function now(): number {
  if (budget > 0) {
    budget--
    return cached
  }
  return preciseNow()
}

/** Forgets the cached reading, so the next `now()` reads the clock (for tests that set the system time directly). */
export function resetClock(): void {
  expire()
}
