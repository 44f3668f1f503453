import { cache, InMemCache, InMemoryMetrics } from '../src/index.js'
import { asyncStore } from './support/async-store.js'
import { advance, T0, useFakeClock } from './support/fake-clock.js'
import { LockingInMemCache, withLocks } from './support/locking-store.js'

useFakeClock()

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000))

/** Two cached wrappers of the same loader over one store: two "processes" sharing a lock backend. */
function twoProcesses(store: LockingInMemCache | ReturnType<typeof withLocks>, options: Record<string, unknown> = {}, loadSeconds = 1) {
  const calls: Array<{ id: number; at: number }> = []
  const loader = async (id: number) => {
    calls.push({ id, at: Date.now() - T0 })
    await sleep(loadSeconds)
    return { id, v: calls.length }
  }
  const make = () => cache(60, { key: 'user:{id}', store, lock: true, ...options })(loader)
  return { a: make(), b: make(), calls }
}

describe('lock: distributed single flight', () => {
  test.each([
    ['an in-memory locking store', () => new LockingInMemCache()],
    ['an asynchronous (remote-style) locking store', () => withLocks(asyncStore())],
  ])('concurrent cold misses in two processes call the loader once (%s)', async (_name, makeStore) => {
    const store = makeStore()
    const { a, b, calls } = twoProcesses(store)
    const pa = a(1)
    const pb = b(1)
    const pa2 = a(1) // joins a's in-process flight: one lock request per process
    await advance(1)
    await advance(0.3) // b polls at most every 250 ms
    expect(await pa).toEqual({ id: 1, v: 1 })
    expect(await pb).toEqual({ id: 1, v: 1 })
    expect(await pa2).toEqual({ id: 1, v: 1 })
    expect(calls).toEqual([{ id: 1, at: 0 }])
    const table = (store as { table: LockingInMemCache['table'] }).table
    expect(table.acquired).toBe(1)
    expect(table.released).toBe(1)
    expect(table.holders.size).toBe(0)
    // Now a hit in both, no lock asked.
    const attempts = table.attempts
    expect(await b(1)).toEqual({ id: 1, v: 1 })
    expect(table.attempts).toBe(attempts)
  })

  test('the holder re-reads the entry after locking: a value written meanwhile is used, the loader is not called', async () => {
    const store = new LockingInMemCache()
    const { a, calls } = twoProcesses(store)
    const pending = a(7)
    // Another process wrote between our miss and our lock.
    store.set('user:7', { id: 7, v: 'theirs' }, 60)
    expect(await pending).toEqual({ id: 7, v: 'theirs' })
    expect(calls).toEqual([])
    expect(store.table.acquired).toBe(1)
    expect(store.table.released).toBe(1)
  })

  test('a holder that crashed (never releases) blocks others until its lock expires; then one takes over', async () => {
    const store = new LockingInMemCache()
    const { b, calls } = twoProcesses(store, { lock: { timeout: 10 } })
    await store.table.tryLock('user:1', 3) // the crashed process: 3 s lock, never released
    const pb = b(1)
    await advance(2.9)
    expect(calls).toEqual([])
    await advance(0.4) // expired at 3 s; b asks again at its next poll (<= 250 ms later)
    expect(calls.length).toBe(1)
    expect(calls[0].at).toBeGreaterThanOrEqual(3000)
    expect(calls[0].at).toBeLessThanOrEqual(3250)
    await advance(1)
    expect(await pb).toEqual({ id: 1, v: 1 })
    expect(store.table.acquired).toBe(2)
    expect(store.table.holders.size).toBe(0)
  })

  test('a waiter waits at most the lock timeout, then loads locally', async () => {
    const store = new LockingInMemCache()
    const { b, calls } = twoProcesses(store, { lock: { timeout: '2s' } })
    await store.table.tryLock('user:1', 1000) // a live holder that never writes
    const pb = b(1)
    await advance(1.9)
    expect(calls).toEqual([])
    await advance(0.4)
    expect(calls.length).toBe(1)
    expect(calls[0].at).toBeGreaterThanOrEqual(2000)
    expect(calls[0].at).toBeLessThanOrEqual(2250)
    await advance(1)
    expect(await pb).toEqual({ id: 1, v: 1 })
    expect(store.get('user:1')).toEqual({ id: 1, v: 1 })
  })

  test('a failing lock backend: the loader runs locally and the error is reported as a "lock" failure', async () => {
    const store = new LockingInMemCache()
    store.table.failWith = new Error('lock backend down')
    const errors: unknown[] = []
    const metrics = new InMemoryMetrics()
    const { a, calls } = twoProcesses(store, { name: 'users', metrics, onError: (error: Error, info: unknown) => errors.push([error.message, info]) })
    const pa = a(1)
    await advance(1)
    expect(await pa).toEqual({ id: 1, v: 1 })
    expect(calls).toEqual([{ id: 1, at: 0 }])
    expect(errors).toEqual([['lock backend down', { cacheName: 'users', key: 'user:1', operation: 'lock' }]])
    expect(metrics.getStats().errors['users.lock']).toEqual({ Error: 1 })
  })

  test('a failing loader: the error reaches the caller, nothing is cached, the lock is released', async () => {
    const store = new LockingInMemCache()
    let n = 0
    const loader = async () => {
      n++
      await sleep(1)
      throw new Error('db down')
    }
    const a = cache(60, { key: 'k', store, lock: true })(loader)
    const pa = a()
    const seen = pa.catch((e: Error) => e.message)
    await advance(1)
    expect(await seen).toBe('db down')
    expect(n).toBe(1)
    expect(store.size).toBe(0)
    expect(store.table.holders.size).toBe(0)
  })

  test('a sync function with lock answers with promises (hits too)', async () => {
    const store = new LockingInMemCache()
    const get = cache(60, { key: 'k', store, lock: true })(() => 41 + 1)
    const first = get()
    expect(first).toBeInstanceOf(Promise)
    expect(await first).toBe(42)
    const hit = get()
    expect(hit).toBeInstanceOf(Promise)
    expect(await hit).toBe(42)
  })

  test('an SWR refresh finding the lock held elsewhere skips (the stale value is served, no loader call)', async () => {
    const store = new LockingInMemCache()
    const metrics = new InMemoryMetrics()
    let n = 0
    const get = cache(10, { key: 'k', store, lock: true, stale: 60, name: 'k', metrics })(async () => ++n)
    expect(await get()).toBe(1)
    await advance(11)
    await store.table.tryLock('k', 5) // another process is refreshing
    expect(await get()).toBe(1)
    await advance(0.1)
    expect(n).toBe(1)
    expect(metrics.getStats().backgroundRefresh.k).toBeUndefined()
    await advance(5) // its lock expired without a value
    expect(await get()).toBe(1) // stale, starts our refresh
    await advance(0.1)
    expect(n).toBe(2)
    expect(await get()).toBe(2)
    expect(metrics.getStats().backgroundRefresh.k).toEqual({ success: 1, failure: 0 })
  })

  test('refresh() takes the lock; waiting for another refresher, it answers with that newer value', async () => {
    const store = new LockingInMemCache()
    const { a, b, calls } = twoProcesses(store)
    const first = a(1)
    await advance(1)
    expect(await first).toEqual({ id: 1, v: 1 })
    await advance(5)
    const ra = a.refresh(1)
    const rb = b.refresh(1)
    await advance(1.3)
    expect(await ra).toEqual({ id: 1, v: 2 })
    expect(await rb).toEqual({ id: 1, v: 2 })
    expect(calls.length).toBe(2)
    expect(store.table.acquired).toBe(2)
  })

  test('options: a store without tryLock, and bad lock values, throw a TypeError naming the option', () => {
    expect(() => cache(60, { lock: true })(async () => 1)).toThrow(/option "lock" needs a store that implements tryLock/)
    expect(() => cache(60, { lock: true, store: new InMemCache() })(async () => 1)).toThrow(TypeError)
    expect(() => cache(60, { lock: 'yes' as never })).toThrow(/option "lock" must be true, false or \{ timeout \}/)
    expect(() => cache(60, { lock: { timeout: 0 } })).toThrow(/option "lock.timeout" must be greater than 0/)
    expect(() => cache(60, { lock: { timout: 1 } as never })).toThrow(/unknown option "timout"/)
    // lock: false is no lock: any store will do.
    expect(cache(60, { lock: false })(async () => 1)).toBeInstanceOf(Function)
  })
})
