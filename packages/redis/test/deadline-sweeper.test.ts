import { TimeoutError } from '@acache/core'
import { DeadlineSweeper } from '../src/index.js'

afterEach(() => jest.useRealTimers())

test('track: only operations still tracked at their deadline time out; untrack forgets a settled one', () => {
  jest.useFakeTimers()
  const sweeper = new DeadlineSweeper(100)
  const timedOut: string[] = []
  sweeper.track(() => timedOut.push('a'))
  const b = sweeper.track(() => timedOut.push('b'))
  sweeper.track(() => timedOut.push('c'))
  sweeper.untrack(b)
  jest.advanceTimersByTime(89)
  expect(timedOut).toEqual([])
  jest.advanceTimersByTime(11) // the deadline is an upper bound: due at 100 ms, not 100 + a tick
  expect(timedOut).toEqual(['a', 'c'])
  // the timer stops once nothing is pending
  expect(jest.getTimerCount()).toBe(0)
  sweeper.stop()
})

test('stop rejects what is pending, untracked operations excepted', async () => {
  const sweeper = new DeadlineSweeper(10_000, (ms) => new TimeoutError(`no answer within ${ms} ms`))
  const errors: Error[] = []
  sweeper.track((e) => errors.push(e))
  sweeper.untrack(sweeper.track((e) => errors.push(e)))
  const bound = sweeper.bound(new Promise(() => {}))
  sweeper.stop()
  await expect(bound).rejects.toThrow('no answer within 10000 ms')
  expect(errors).toHaveLength(1)
  expect(errors[0]).toBeInstanceOf(TimeoutError)
})
