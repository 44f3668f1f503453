import { TimeoutError } from '../src/errors.js'
import { InstrumentedStorage } from '../src/instrumented-storage.js'
import { InMemoryMetrics, NULL_METRICS } from '../src/metrics.js'
import type { CacheEntry, CacheStorage, MetricsCollector } from '../src/types.js'

/** A minimal synchronous store: no expiry logic beyond what the tests need. */
class MapStore implements CacheStorage {
  readonly entries = new Map<string, CacheEntry>()
  /** Set to make the next call of that method throw. */
  failNext: { method: string; error: unknown } | undefined

  private maybeFail(method: string): void {
    if (this.failNext?.method === method) {
      const { error } = this.failNext
      this.failNext = undefined
      throw error
    }
  }

  get(key: string): unknown {
    this.maybeFail('get')
    return this.entries.get(key)?.value
  }
  set(key: string, value: unknown, ttl: number): void {
    this.maybeFail('set')
    const now = Date.now() / 1000
    this.entries.set(key, { value, createdAt: now, freshUntil: ttl > 0 ? now + ttl : Infinity })
  }
  delete(key: string): void {
    this.maybeFail('delete')
    this.entries.delete(key)
  }
  exists(key: string): boolean {
    this.maybeFail('exists')
    return this.entries.has(key)
  }
  getEntry(key: string): CacheEntry | undefined {
    this.maybeFail('getEntry')
    return this.entries.get(key)
  }
  lastSetEntryArgCount = -1
  setEntry(key: string, entry: CacheEntry, ttl?: number): void {
    this.maybeFail('setEntry')
    this.lastSetEntryArgCount = arguments.length
    void ttl
    this.entries.set(key, entry)
  }
  setIfNotExists(key: string, value: unknown, ttl: number): boolean {
    this.maybeFail('setIfNotExists')
    if (this.entries.has(key)) return false
    this.set(key, value, ttl)
    return true
  }
  getMany(keys: string[]): Map<string, unknown> {
    this.maybeFail('getMany')
    const found = new Map<string, unknown>()
    for (const key of keys) if (this.entries.has(key)) found.set(key, this.entries.get(key)!.value)
    return found
  }
  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): void {
    this.maybeFail('setMany')
    const pairs = items instanceof Map ? [...items] : Object.entries(items)
    for (const [key, value] of pairs) this.set(key, value, ttl)
  }
  clear(): void {
    this.maybeFail('clear')
    this.entries.clear()
  }
  /** An extra, non-protocol method. */
  size(): number {
    return this.entries.size
  }
  _internal(): string {
    return 'hidden'
  }
  get expensiveGetter(): number {
    throw new Error('getters must not be read while forwarding')
  }
}

/** The same store answering with promises (after a macrotask, like a network store). */
class AsyncMapStore implements CacheStorage {
  readonly sync = new MapStore()
  private later<T>(fn: () => T): Promise<T> {
    return new Promise((resolve, reject) => setImmediate(() => {
      try {
        resolve(fn())
      } catch (error) {
        reject(error)
      }
    }))
  }
  get(key: string) { return this.later(() => this.sync.get(key)) }
  set(key: string, value: unknown, ttl: number) { return this.later(() => this.sync.set(key, value, ttl)) }
  delete(key: string) { return this.later(() => this.sync.delete(key)) }
  exists(key: string) { return this.later(() => this.sync.exists(key)) }
  getEntry(key: string) { return this.later(() => this.sync.getEntry(key)) }
  setEntry(key: string, entry: CacheEntry, ttl?: number) { return this.later(() => this.sync.setEntry(key, entry, ttl)) }
  setIfNotExists(key: string, value: unknown, ttl: number) { return this.later(() => this.sync.setIfNotExists(key, value, ttl)) }
  getMany(keys: string[]) { return this.later(() => this.sync.getMany(keys)) }
  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number) { return this.later(() => this.sync.setMany(items, ttl)) }
  clear() { return this.later(() => this.sync.clear()) }
}

/** A collector that logs every call, to assert on exact call sequences. */
class RecordingMetrics implements MetricsCollector {
  calls: unknown[][] = []
  recordHit(...args: unknown[]) { this.calls.push(['hit', ...args]) }
  recordMiss(...args: unknown[]) { this.calls.push(['miss', ...args]) }
  recordSet(...args: unknown[]) { this.calls.push(['set', ...args]) }
  recordDelete(...args: unknown[]) { this.calls.push(['delete', ...args]) }
  recordLatency(name: string, op: string, seconds: number) {
    expect(seconds).toBeGreaterThanOrEqual(0)
    expect(seconds).toBeLessThan(5)
    this.calls.push(['latency', name, op])
  }
  recordError(...args: unknown[]) { this.calls.push(['error', ...args]) }
  recordMemoryUsage(...args: unknown[]) { this.calls.push(['memory', ...args]) }
  recordBackgroundRefresh(...args: unknown[]) { this.calls.push(['bg', ...args]) }
}

describe('InstrumentedStorage over a synchronous store', () => {
  test('stays synchronous: results are values, not promises', () => {
    const store = new InstrumentedStorage(new MapStore(), new InMemoryMetrics(), 'mem')
    expect(store.set('a', 1, 60)).toBeUndefined()
    expect(store.get('a')).toBe(1)
    expect(store.exists('a')).toBe(true)
    expect(store.setIfNotExists('a', 2, 60)).toBe(false)
    expect(store.getMany(['a', 'b'])).toEqual(new Map([['a', 1]]))
    expect(store.getEntry('a')).toEqual({ value: 1, createdAt: expect.any(Number) as number, freshUntil: expect.any(Number) as number })
    expect(store.delete('a')).toBeUndefined()
    expect(store.clear()).toBeUndefined()
  })

  test('records exactly one latency per operation plus the right counts, in order', () => {
    const metrics = new RecordingMetrics()
    const store = new InstrumentedStorage(new MapStore(), metrics, 'mem')
    store.get('a')
    store.set('a', 1, 60)
    store.get('a')
    store.exists('a')
    store.getEntry('a')
    store.getEntry('zz')
    store.setEntry('b', { value: 2, freshUntil: Infinity, createdAt: 1 })
    store.setIfNotExists('a', 9, 60)
    store.setIfNotExists('c', 3, 60)
    store.getMany(['a', 'x', 'b', 'y'])
    store.setMany({ d: 4, e: 5 }, 60)
    store.setMany(new Map([['f', 6]]), 60)
    store.delete('a')
    store.clear()
    expect(metrics.calls).toEqual([
      ['latency', 'mem', 'get'], ['miss', 'mem'],
      ['latency', 'mem', 'set'], ['set', 'mem'],
      ['latency', 'mem', 'get'], ['hit', 'mem'],
      ['latency', 'mem', 'exists'],
      ['latency', 'mem', 'getEntry'], ['hit', 'mem', false],
      ['latency', 'mem', 'getEntry'], ['miss', 'mem'],
      ['latency', 'mem', 'setEntry'], ['set', 'mem'],
      ['latency', 'mem', 'setIfNotExists'],
      ['latency', 'mem', 'setIfNotExists'], ['set', 'mem'],
      ['latency', 'mem', 'getMany'], ['hit', 'mem'], ['miss', 'mem'], ['hit', 'mem'], ['miss', 'mem'],
      ['latency', 'mem', 'setMany'], ['set', 'mem'], ['set', 'mem'],
      ['latency', 'mem', 'setMany'], ['set', 'mem'],
      ['latency', 'mem', 'delete'], ['delete', 'mem'],
      ['latency', 'mem', 'clear'],
    ])
  })

  test('feeds InMemoryMetrics the expected totals', () => {
    const metrics = new InMemoryMetrics()
    const store = new InstrumentedStorage(new MapStore(), metrics, 'mem')
    store.set('a', 1, 60)
    store.get('a')
    store.get('a')
    store.get('missing')
    store.getMany(['a', 'nope'])
    store.delete('a')
    const stats = metrics.getStats()
    expect(stats.caches.mem).toEqual({ hits: 3, misses: 2, sets: 1, deletes: 1, hitRatePercent: 60, staleHits: 0 })
    expect(stats.latency['mem.get'].count).toBe(3)
    expect(stats.latency['mem.set'].count).toBe(1)
    expect(stats.latency['mem.getMany'].count).toBe(1)
    expect(stats.latency['mem.delete'].count).toBe(1)
    expect(Object.keys(stats.latency).sort()).toEqual(['mem.delete', 'mem.get', 'mem.getMany', 'mem.set'])
  })

  test('a getEntry hit past freshUntil is a stale hit', () => {
    const metrics = new InMemoryMetrics()
    const store = new InstrumentedStorage(new MapStore(), metrics, 'mem')
    const now = Date.now() / 1000
    store.setEntry('old', { value: 1, freshUntil: now - 10, createdAt: now - 70 })
    store.setEntry('new', { value: 2, freshUntil: now + 60, createdAt: now })
    store.getEntry('old')
    store.getEntry('new')
    expect(metrics.getStats().caches.mem).toMatchObject({ hits: 2, staleHits: 1, misses: 0, sets: 2 })
  })

  test('a synchronous throw is recorded, then rethrown synchronously as the same error', () => {
    const metrics = new RecordingMetrics()
    const inner = new MapStore()
    const store = new InstrumentedStorage(inner, metrics, 'mem')
    const failure = new TimeoutError('slow')
    inner.failNext = { method: 'get', error: failure }
    let caught: unknown
    try {
      store.get('a')
    } catch (error) {
      caught = error
    }
    expect(caught).toBe(failure)
    inner.failNext = { method: 'setMany', error: new RangeError('x') }
    expect(() => store.setMany({ a: 1 }, 1)).toThrow(RangeError)
    expect(metrics.calls).toEqual([
      ['latency', 'mem', 'get'], ['error', 'mem', 'get', 'TimeoutError'],
      ['latency', 'mem', 'setMany'], ['error', 'mem', 'setMany', 'RangeError'],
    ])
  })

  test('setEntry forwards the exact arity (ttl omitted vs given)', () => {
    const inner = new MapStore()
    const store = new InstrumentedStorage(inner, NULL_METRICS, 'mem')
    const entry = { value: 1, freshUntil: Infinity, createdAt: 1 }
    store.setEntry('a', entry)
    expect(inner.lastSetEntryArgCount).toBe(2)
    store.setEntry('a', entry, 30)
    expect(inner.lastSetEntryArgCount).toBe(3)
    store.setEntry('a', entry, undefined)
    expect(inner.lastSetEntryArgCount).toBe(3)
  })
})

describe('InstrumentedStorage over an asynchronous store', () => {
  test('returns promises that resolve to the inner results', async () => {
    const store = new InstrumentedStorage(new AsyncMapStore(), new InMemoryMetrics(), 'remote')
    const pending = store.set('a', 1, 60)
    expect(pending).toBeInstanceOf(Promise)
    await pending
    await expect(store.get('a')).resolves.toBe(1)
    await expect(store.exists('a')).resolves.toBe(true)
    await expect(store.setIfNotExists('a', 2, 60)).resolves.toBe(false)
    await expect(store.setIfNotExists('b', 2, 60)).resolves.toBe(true)
    await expect(store.getMany(['a', 'b', 'c'])).resolves.toEqual(new Map([['a', 1], ['b', 2]]))
    await expect(store.delete('a')).resolves.toBeUndefined()
    await expect(store.clear()).resolves.toBeUndefined()
  })

  test('records counts and latency when the promise settles, not before', async () => {
    const metrics = new InMemoryMetrics()
    const store = new InstrumentedStorage(new AsyncMapStore(), metrics, 'remote')
    const pending = store.get('a')
    expect(metrics.getStats().caches).toEqual({})
    expect(metrics.getStats().latency).toEqual({})
    await pending
    await store.setMany({ a: 1, b: 2, c: 3 }, 60)
    await store.getEntry('a')
    await store.getMany(['a', 'b', 'x'])
    await store.setIfNotExists('a', 0, 60)
    await store.setIfNotExists('z', 0, 60)
    await store.delete('b')
    const stats = metrics.getStats()
    expect(stats.caches.remote).toEqual({ hits: 3, misses: 2, sets: 4, deletes: 1, hitRatePercent: 60, staleHits: 0 })
    expect(Object.fromEntries(Object.entries(stats.latency).map(([k, v]) => [k, v.count]))).toEqual({
      'remote.get': 1,
      'remote.setMany': 1,
      'remote.getEntry': 1,
      'remote.getMany': 1,
      'remote.setIfNotExists': 2,
      'remote.delete': 1,
    })
  })

  test('measures the time until the promise settles', async () => {
    const metrics = new InMemoryMetrics()
    const inner = Object.assign(new MapStore(), {
      get: () => new Promise((resolve) => setTimeout(() => resolve('v'), 40)),
    })
    const store = new InstrumentedStorage(inner, metrics, 'remote')
    await expect(store.get('k')).resolves.toBe('v')
    const { p50Ms, count } = metrics.getStats().latency['remote.get']
    expect(count).toBe(1)
    expect(p50Ms).toBeGreaterThanOrEqual(35)
    expect(p50Ms).toBeLessThan(2000)
  })

  test('a rejection is recorded by class name and rejected with the same error', async () => {
    const metrics = new InMemoryMetrics()
    const async = new AsyncMapStore()
    const store = new InstrumentedStorage(async, metrics, 'remote')
    const failure = new TimeoutError('deadline')
    async.sync.failNext = { method: 'get', error: failure }
    await expect(store.get('a')).rejects.toBe(failure)
    async.sync.failNext = { method: 'set', error: new TypeError('bad') }
    await expect(store.set('a', 1, 1)).rejects.toThrow(TypeError)
    async.sync.failNext = { method: 'get', error: new TimeoutError('again') }
    await expect(store.get('a')).rejects.toThrow('again')
    const stats = metrics.getStats()
    expect(stats.errors).toEqual({ 'remote.get': { TimeoutError: 2 }, 'remote.set': { TypeError: 1 } })
    expect(stats.latency['remote.get'].count).toBe(2)
    // Failed operations record latency but no hit/miss/set counts.
    expect(stats.caches).toEqual({})
  })

  test('adopts a foreign thenable into a real promise', async () => {
    const inner = new MapStore()
    const thenable = { then: (resolve: (v: unknown) => void) => resolve('from-thenable') }
    Object.assign(inner, { get: () => thenable })
    const metrics = new InMemoryMetrics()
    const store = new InstrumentedStorage(inner, metrics, 'odd')
    const result = store.get('k')
    expect(result).toBeInstanceOf(Promise)
    await expect(result).resolves.toBe('from-thenable')
    expect(metrics.getStats().caches.odd.hits).toBe(1)
  })
})

describe('InstrumentedStorage wrapping details', () => {
  test('exposes the wrapped store, the collector and the name', () => {
    const inner = new MapStore()
    const metrics = new InMemoryMetrics()
    const store = new InstrumentedStorage(inner, metrics, 'mem')
    expect(store.inner).toBe(inner)
    expect(store.metrics).toBe(metrics)
    expect(store.name).toBe('mem')
  })

  test('forwards extra methods of the inner store (not private ones, not getters)', () => {
    const inner = new MapStore()
    const store = new InstrumentedStorage(inner, NULL_METRICS, 'mem')
    inner.set('a', 1, 0)
    const forwarded = store as unknown as Record<string, unknown>
    expect(typeof forwarded.size).toBe('function')
    expect((forwarded.size as () => number)()).toBe(1)
    expect(forwarded._internal).toBeUndefined()
    expect(forwarded.expensiveGetter).toBeUndefined()
    expect(forwarded.then).toBeUndefined()
    // Protocol methods stay instrumented, not replaced by forwarders.
    expect(store.get).toBe(InstrumentedStorage.prototype.get)
    expect(Object.keys(store).sort()).toEqual(['inner', 'metrics', 'name'])
  })

  test('labels errors by class name, including non-Error rejections', async () => {
    const metrics = new InMemoryMetrics()
    const inner = Object.assign(new MapStore(), {
      get: () => Promise.reject(Object.assign(new Error('x'), { name: 'AbortError' })),
      exists: () => {
        throw 'plain string' // a non-Error throw must still be counted and rethrown as is
      },
    })
    const store = new InstrumentedStorage(inner, metrics, 'odd')
    await expect(store.get('k')).rejects.toThrow('x')
    expect(() => store.exists('k')).toThrow('plain string')
    expect(metrics.getStats().errors).toEqual({ 'odd.get': { AbortError: 1 }, 'odd.exists': { string: 1 } })
  })

  test('a throwing metrics collector never changes the outcome of a store operation', async () => {
    const broken: MetricsCollector = {
      ...NULL_METRICS,
      recordLatency: () => {
        throw new Error('exporter down')
      },
    }
    const sync = new InstrumentedStorage(new MapStore(), broken, 'mem')
    sync.set('a', 1, 0)
    expect(sync.get('a')).toBe(1)
    const asyncStore = new AsyncMapStore()
    const remote = new InstrumentedStorage(asyncStore, broken, 'remote')
    await remote.set('a', 2, 0)
    await expect(remote.get('a')).resolves.toBe(2)
    const failure = new TimeoutError('the real error')
    asyncStore.sync.failNext = { method: 'get', error: failure }
    await expect(remote.get('a')).rejects.toBe(failure)
  })

  test('validates its arguments with TypeErrors naming them', () => {
    const store = new MapStore()
    expect(() => new InstrumentedStorage(null as unknown as CacheStorage, NULL_METRICS, 'n')).toThrow(
      new TypeError('InstrumentedStorage: store must be a CacheStorage object, got null'),
    )
    const partial = { get() {}, set() {} } as unknown as CacheStorage
    expect(() => new InstrumentedStorage(partial, NULL_METRICS, 'n')).toThrow(
      new TypeError(
        'InstrumentedStorage: store is not a CacheStorage; missing method(s): delete, exists, getEntry, setEntry, setIfNotExists, getMany, setMany, clear',
      ),
    )
    expect(() => new InstrumentedStorage(store, undefined as unknown as MetricsCollector, 'n')).toThrow(
      new TypeError('InstrumentedStorage: metrics must be a MetricsCollector object, got undefined'),
    )
    expect(() => new InstrumentedStorage(store, { ...NULL_METRICS, recordHit: undefined } as unknown as MetricsCollector, 'n')).toThrow(
      new TypeError('InstrumentedStorage: metrics is not a MetricsCollector; missing method(s): recordHit'),
    )
    expect(() => new InstrumentedStorage(store, NULL_METRICS, '')).toThrow(
      new TypeError('InstrumentedStorage: name must be a non-empty string, got an empty string'),
    )
    expect(() => new InstrumentedStorage(store, NULL_METRICS, 42 as unknown as string)).toThrow(
      new TypeError('InstrumentedStorage: name must be a non-empty string, got number'),
    )
  })
})
