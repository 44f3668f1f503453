import { resetClock } from '../../src/clock.js'

/** Epoch milliseconds the fake clock starts at in engine tests. */
export const T0 = Date.UTC(2026, 0, 1)

/** Advance fake time by `seconds`, running timers and the promise jobs they start. */
export const advance = (seconds: number) => jest.advanceTimersByTimeAsync(seconds * 1000)

/**
 * Installs jest fake timers at T0 for each test, and fails a test that leaves an unhandled
 * rejection behind. `afterEachExtra` runs before the checks (e.g. `bg.shutdown()`); `doNotFake`
 * leaves some timer functions real (e.g. `setImmediate` for stores that answer on a later tick).
 */
export function useFakeClock(
  afterEachExtra?: () => unknown,
  { doNotFake = [] }: { doNotFake?: Array<'setImmediate' | 'nextTick' | 'queueMicrotask'> } = {},
): void {
  let unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeEach(() => {
    jest.useFakeTimers({ now: T0, doNotFake })
    resetClock()
    unhandled = []
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    await afterEachExtra?.()
    process.off('unhandledRejection', onUnhandled)
    jest.useRealTimers()
    jest.restoreAllMocks()
    expect(unhandled).toEqual([])
  })
}
