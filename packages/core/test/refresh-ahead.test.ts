import { bg, cache, InMemCache, InMemoryMetrics } from '../src/index.js'
import { advance, T0, useFakeClock } from './support/fake-clock.js'

useFakeClock(() => bg.shutdown())

const at = () => (Date.now() - T0) / 1000

describe('refreshAhead', () => {
  test('a key being read is refreshed at 0.9 × ttl: callers never wait after the first load', async () => {
    const calls: number[] = []
    const get = cache(10, { key: 'k', refreshAhead: true })(async () => {
      calls.push(at())
      return `v${calls.length}`
    })
    expect(await get()).toBe('v1')
    await advance(8.9)
    expect(calls).toEqual([0])
    await advance(0.1)
    expect(calls).toEqual([0, 9])
    expect(await get()).toBe('v2')
    await advance(9) // 18: the next one, 0.9 × ttl after the last write
    expect(calls).toEqual([0, 9, 18])
    expect(await get()).toBe('v3')
  })

  test('a failed refresh keeps serving the last good value (even past its TTL) and retries with backoff ×1.25', async () => {
    const calls: number[] = []
    let failing = false
    const errors: Array<[string, unknown]> = []
    const metrics = new InMemoryMetrics()
    const store = new InMemCache()
    const get = cache(10, {
      key: 'k',
      store,
      name: 'k',
      metrics,
      refreshAhead: { backoff: { initial: 1.024, max: 2.5 }, idle: 60 },
      onError: (error, info) => errors.push([(error as Error).message, info]),
    })(async () => {
      calls.push(at())
      if (failing) throw new Error('upstream down')
      return `v${calls.length}`
    })
    expect(await get()).toBe('v1')
    failing = true
    await advance(9) // refresh at 9 fails; retries after 1.024, 1.28, 1.6, 2, then 2.5 s (capped)
    for (let t = 9; t < 20; t++) {
      expect(await get()).toBe('v1') // never a wait, never an error, past the 10 s TTL too
      await advance(1)
    }
    expect(calls).toEqual([0, 9, 10.024, 11.304, 12.904, 14.904, 17.404, 19.904])
    expect(store.getEntry('k')?.value).toBe('v1') // still physically there
    expect(errors[0]).toEqual(['upstream down', { cacheName: 'k', key: 'k', operation: 'refresh' }])
    expect(errors.length).toBe(7)
    failing = false
    await advance(2.404) // 22.404: the next retry succeeds
    expect(calls.at(-1)).toBe(22.404)
    expect(await get()).toBe('v9')
    expect(metrics.getStats().backgroundRefresh.k).toEqual({ success: 1, failure: 7 })
    // Back on schedule: 0.9 × ttl after that write.
    await advance(9)
    expect(calls.at(-1)).toBe(31.404)
  })

  test('a key not read for `idle` stops being refreshed, then expires normally', async () => {
    const calls: number[] = []
    const get = cache(10, { key: 'k', refreshAhead: true })(async () => {
      calls.push(at())
      return calls.length
    }) // idle: 2 × ttl = 20 s
    expect(await get()).toBe(1)
    await advance(30)
    // Refreshed at 9 and 18 (last read 0: 18 s ago, within idle); at 27 the key had been idle 27 s > 20.
    expect(calls).toEqual([0, 9, 18])
    await advance(10) // 40: entry written at 18 is dead (fresh until 28, kept until 38)
    expect(await get()).toBe(4) // a plain miss
    expect(calls).toEqual([0, 9, 18, 40])
  })

  test('reads keep a key scheduled; refreshes are single-flight with a load under way', async () => {
    let n = 0
    let release: (() => void) | undefined
    const get = cache(10, { key: 'k', refreshAhead: { at: 0.5 } })(
      () =>
        new Promise<number>((resolve) => {
          const v = ++n
          release = () => resolve(v)
        }),
    )
    const first = get()
    const second = get()
    release!()
    expect(await first).toBe(1)
    expect(await second).toBe(1)
    await advance(5) // refresh starts, pending
    expect(n).toBe(2)
    const refreshed = get.refresh() // joins the refresh under way
    const read = get() // the entry is still fresh: 1
    expect(n).toBe(2)
    release!()
    expect(await refreshed).toBe(2)
    expect(await read).toBe(1)
    expect(await get()).toBe(2)
    expect(n).toBe(2)
  })

  test('a synchronous function stays synchronous; bg.shutdown() stops the schedule', async () => {
    let n = 0
    const get = cache(10, { key: 'k', refreshAhead: true })(() => ++n)
    expect(get()).toBe(1)
    await advance(9)
    expect(n).toBe(2)
    expect(get()).toBe(2)
    await bg.shutdown()
    await advance(9)
    expect(n).toBe(2)
    expect(get()).toBe(2) // still cached; after shutdown it expires normally
    await advance(1)
    expect(get()).toBe(3)
  })

  test('invalidate() and clear() drop keys from the schedule', async () => {
    let n = 0
    const get = cache(10, { key: '{0}', refreshAhead: true })(async (id: number) => `${id}:${++n}`)
    await get(1)
    await get(2)
    await get.invalidate(1)
    await advance(9)
    expect(n).toBe(3) // only key 2 refreshed
    await get.clear()
    await advance(9)
    expect(n).toBe(3)
  })

  test('options are validated, naming the option', () => {
    expect(() => cache(10, { refreshAhead: { at: 1 } })).toThrow(/option "refreshAhead.at" must be a number between 0 and 1/)
    expect(() => cache(10, { refreshAhead: { idle: -1 } })).toThrow(/option "refreshAhead.idle" must not be negative/)
    expect(() => cache(10, { refreshAhead: { backoff: { initial: 5, max: 1 } } })).toThrow(/"refreshAhead.backoff.max"/)
    expect(() => cache(10, { refreshAhead: { every: 1 } as never })).toThrow(/unknown option "every"/)
    expect(() => cache(10, { refreshAhead: 'yes' as never })).toThrow(/option "refreshAhead" must be true/)
  })
})
