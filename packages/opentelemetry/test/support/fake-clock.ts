import { resetClock } from '@acache/core'

/** Epoch milliseconds the fake clock starts at. */
export const T0 = Date.UTC(2026, 0, 1)

// The engine amortises clock reads (a cached reading renewed by a 1 ms timer). Between tests that
// timer is dropped with the fake timers, so the cached reading is forgotten explicitly.

/** Advance fake time by `seconds`, running timers and the promise jobs they start. */
export const advance = (seconds: number) => jest.advanceTimersByTimeAsync(seconds * 1000)

/** Installs jest fake timers (Date, performance.now, setTimeout/setInterval) at T0 for each test. */
export function useFakeClock(afterEachExtra?: () => unknown): void {
  let unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeEach(() => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] })
    resetClock()
    unhandled = []
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    await afterEachExtra?.()
    process.off('unhandledRejection', onUnhandled)
    jest.useRealTimers()
    expect(unhandled).toEqual([])
  })
}
