import { bg, cache, TimeoutError } from '../src/index.js'
import { advance, T0, useFakeClock } from './support/fake-clock.js'

useFakeClock(() => bg.shutdown())

const at = () => (Date.now() - T0) / 1000
const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000))

describe('timeout: hard', () => {
  test('past the hard timeout callers get a TimeoutError, the signal is aborted, the late value is not stored', async () => {
    const signals: Array<AbortSignal | undefined> = []
    let n = 0
    const get = cache(60, { key: 'k', name: 'k', timeout: { hard: 2 } })(async () => {
      signals.push(cache.signal())
      const v = ++n
      await sleep(n === 1 ? 5 : 0.1)
      return v
    })
    const p = get()
    const outcome = p.then(
      () => 'resolved',
      (e: Error) => [e.constructor, e.message, at()],
    )
    await advance(1.999)
    expect(signals[0]!.aborted).toBe(false)
    await advance(0.001)
    expect(await outcome).toEqual([TimeoutError, 'cache(): "k" did not load key "k" within 2 s (hard timeout)', 2])
    expect(signals[0]!.aborted).toBe(true)
    expect(signals[0]!.reason).toBeInstanceOf(TimeoutError)
    // The next call loads again (errors are not cached, the timed-out flight is gone).
    const second = get()
    await advance(0.1)
    expect(await second).toBe(2)
    await advance(5) // the first loader's late value lands: dropped
    expect(await get()).toBe(2)
    expect(n).toBe(2)
  })

  test('a duration is the hard timeout; cache.signal() is undefined outside loaders', async () => {
    expect(cache.signal()).toBeUndefined()
    const get = cache(60, { key: 'k', timeout: '250ms' })(() => sleep(1).then(() => 1))
    const p = get().catch((e: Error) => e)
    await advance(0.25)
    expect(await p).toBeInstanceOf(TimeoutError)
  })

  test('bg.shutdown() aborts the signal of loads under way', async () => {
    let signal: AbortSignal | undefined
    const get = cache(60, { key: 'k', timeout: 10 })(async () => {
      signal = cache.signal()
      await sleep(1)
      return 1
    })
    const p = get()
    await bg.shutdown()
    expect(signal!.aborted).toBe(true)
    await advance(1)
    expect(await p).toBe(1) // the loader ignored the signal: its own outcome reaches the caller
  })
})

describe('timeout: soft', () => {
  test('with a stored (dead) value, past the soft timeout callers get it; the loader finishes in the background and its value is stored', async () => {
    const calls: number[] = []
    const errors: unknown[] = []
    const get = cache(10, { key: 'k', timeout: { soft: 0.5 }, staleIfError: 60, onError: (e) => errors.push(e) })(async () => {
      calls.push(at())
      if (calls.length > 1) await sleep(3)
      return `v${calls.length}`
    })
    expect(await get()).toBe('v1')
    await advance(11) // dead, still stored (staleIfError keeps it)
    const p = get()
    const joined = get()
    let answered: number | undefined
    void p.then(() => (answered = at()))
    await advance(0.499)
    expect(answered).toBeUndefined()
    await advance(0.001)
    expect(await p).toBe('v1')
    expect(await joined).toBe('v1')
    expect(answered).toBe(11.5)
    expect(await get()).toBe('v1') // joins the flight, which already answered
    expect(calls).toEqual([0, 11])
    await advance(2.5) // 14: the background load landed
    expect(await get()).toBe('v2')
    expect(calls).toEqual([0, 11])
    expect(errors).toEqual([])
  })

  test('without a stored value the caller waits for the loader (or the hard timeout)', async () => {
    const get = cache(10, { key: 'k', timeout: { soft: 0.5, hard: 2 } })(async () => {
      await sleep(1)
      return 'v'
    })
    const p = get()
    let done = false
    void p.then(() => (done = true))
    await advance(0.9)
    expect(done).toBe(false)
    await advance(0.1)
    expect(await p).toBe('v')
  })

  test('soft then hard: the caller got the stale value; the hard timeout aborts the loader and is reported', async () => {
    const errors: Array<[string, unknown]> = []
    let n = 0
    const get = cache(10, { key: 'k', name: 'k', timeout: { soft: 1, hard: 3 }, staleIfError: 60, onError: (e, info) => errors.push([(e as Error).name, info]) })(
      async () => {
        n++
        if (n > 1) await sleep(100)
        return n
      },
    )
    expect(await get()).toBe(1)
    await advance(11)
    const p = get()
    await advance(1)
    expect(await p).toBe(1)
    await advance(2)
    expect(errors).toEqual([['TimeoutError', { cacheName: 'k', key: 'k', operation: 'load' }]])
  })

  test('options are validated, naming the option', () => {
    expect(() => cache(10, { timeout: { soft: 2, hard: 1 } })).toThrow(/option "timeout.soft" \(2 s\) must be shorter than "timeout.hard" \(1 s\)/)
    expect(() => cache(10, { timeout: 0 })).toThrow(/option "timeout" must be greater than 0/)
    expect(() => cache(10, { timeout: {} })).toThrow(/option "timeout" needs "soft" and\/or "hard"/)
    expect(() => cache(10, { timeout: { hrad: 1 } as never })).toThrow(/unknown option "hrad"/)
    expect(() => cache(10, { timeout: { soft: '5 parsecs' } })).toThrow(/option "timeout.soft" must be a duration/)
  })
})

describe('staleIfError', () => {
  test('a failing load of a dead entry serves the last value up to staleIfError past its stale window (inclusive), reporting the error', async () => {
    const errors: Array<[string, unknown]> = []
    let failing = false
    let n = 0
    const get = cache(10, { key: 'k', name: 'k', stale: 2, staleIfError: 5, onError: (e, info) => errors.push([(e as Error).message, info]) })(
      async () => {
        n++
        if (failing) throw new Error('db down')
        return `v${n}`
      },
    )
    expect(await get()).toBe('v1')
    failing = true
    await advance(17) // fresh until 10, stale until 12, served on error until 17 (inclusive)
    expect(await get()).toBe('v1')
    expect(errors).toEqual([['db down', { cacheName: 'k', key: 'k', operation: 'load' }]])
    expect(await get()).toBe('v1') // each miss tries again (errors are never cached)
    expect(n).toBe(3)
    await advance(0.001)
    await expect(get()).rejects.toThrow('db down')
    expect(errors.length).toBe(2)
  })

  test('with no last value the caller gets the error; a synchronous function stays synchronous', async () => {
    let failing = true
    const get = cache(10, { key: 'k', staleIfError: 5, logger: null })(() => {
      if (failing) throw new Error('boom')
      return 'v'
    })
    expect(() => get()).toThrow('boom')
    failing = false
    expect(get()).toBe('v')
    failing = true
    await advance(14)
    expect(get()).toBe('v')
    await advance(1)
    expect(get()).toBe('v') // 15: the end is inclusive
    await advance(0.001)
    expect(() => get()).toThrow('boom')
  })

  test('options are validated, naming the option', () => {
    expect(() => cache(10, { staleIfError: -1 })).toThrow(/option "staleIfError" must not be negative/)
    expect(() => cache(10, { staleIfError: 'soon' })).toThrow(/option "staleIfError" must be a duration/)
  })
})
