/**
 * Fakes `Date` only: the store reads the time through `Date.now()`, while fs callbacks and the
 * store's short retry sleeps keep running on real timers.
 */
export function useFakeDate(nowMs: number): void {
  jest.useFakeTimers({
    now: nowMs,
    doNotFake: [
      'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
      'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval',
      'clearInterval', 'setTimeout', 'clearTimeout',
    ],
  })
}

/** Moves the fake `Date` forward by `seconds`. */
export function advanceSeconds(seconds: number): void {
  jest.setSystemTime(Date.now() + seconds * 1000)
}
