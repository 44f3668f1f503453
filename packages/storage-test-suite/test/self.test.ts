import { runStorageSuite, storageCases, type StorageEntry, type StorageUnderTest } from '../src/index.js'

/** A small Map-based reference store; `prefix`-scoped over a shared backend map to test namespaces. */
class MapStore implements StorageUnderTest {
  constructor(
    readonly backend: Map<string, { entry: StorageEntry; expiresAt: number }> = new Map(),
    readonly prefix = 'a:',
  ) {}
  private read(key: string) {
    const k = this.prefix + key
    const item = this.backend.get(k)
    if (item && Date.now() / 1000 >= item.expiresAt) {
      this.backend.delete(k)
      return undefined
    }
    return item
  }
  get(key: string) {
    return this.read(key)?.entry.value
  }
  set(key: string, value: unknown, ttl: number) {
    if (value === undefined) throw new TypeError('undefined cannot be stored')
    const now = Date.now() / 1000
    this.setEntry(key, { value, createdAt: now, freshUntil: ttl > 0 ? now + ttl : Infinity }, ttl)
  }
  delete(key: string) {
    this.backend.delete(this.prefix + key)
  }
  exists(key: string) {
    return this.read(key) !== undefined
  }
  getEntry(key: string) {
    const item = this.read(key)
    return item && { ...item.entry }
  }
  setEntry(key: string, entry: StorageEntry, ttl?: number) {
    const now = Date.now() / 1000
    const expiresAt = ttl === undefined ? entry.freshUntil : ttl > 0 ? now + ttl : Infinity
    this.backend.set(this.prefix + key, { entry: { ...entry }, expiresAt })
  }
  setIfNotExists(key: string, value: unknown, ttl: number) {
    if (this.read(key) !== undefined) return false
    this.set(key, value, ttl)
    return true
  }
  getMany(keys: string[]) {
    const out = new Map<string, unknown>()
    for (const k of keys) {
      const item = this.read(k)
      if (item) out.set(k, item.entry.value)
    }
    return out
  }
  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number) {
    const list = Object.prototype.toString.call(items) === '[object Map]' ? (items as Map<string, unknown>) : Object.entries(items)
    for (const [k, v] of list) this.set(k, v, ttl)
  }
  clear() {
    for (const k of [...this.backend.keys()]) if (k.startsWith(this.prefix)) this.backend.delete(k)
  }
}

/** The same store answering through promises, with a serializer that copies (like a remote store). */
class AsyncMapStore implements StorageUnderTest {
  inner: MapStore
  constructor(backend?: Map<string, { entry: StorageEntry; expiresAt: number }>, prefix?: string) {
    this.inner = new MapStore(backend, prefix)
  }
  private async tick() {
    await new Promise((r) => setImmediate(r))
  }
  async get(key: string) { await this.tick(); return structuredClone(this.inner.get(key)) }
  async set(key: string, value: unknown, ttl: number) {
    if (value === undefined) return // the other documented choice: a no-op
    await this.tick(); this.inner.set(key, structuredClone(value), ttl)
  }
  async delete(key: string) { await this.tick(); this.inner.delete(key) }
  async exists(key: string) { await this.tick(); return this.inner.exists(key) }
  async getEntry(key: string) { await this.tick(); return structuredClone(this.inner.getEntry(key)) }
  async setEntry(key: string, entry: StorageEntry, ttl?: number) { await this.tick(); this.inner.setEntry(key, structuredClone(entry), ttl) }
  async setIfNotExists(key: string, value: unknown, ttl: number) { await this.tick(); return this.inner.setIfNotExists(key, value, ttl) }
  async getMany(keys: string[]) { await this.tick(); return structuredClone(this.inner.getMany(keys)) }
  async setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number) { await this.tick(); this.inner.setMany(structuredClone(items), ttl) }
  async clear() { await this.tick(); this.inner.clear() }
}

runStorageSuite(
  { describe, test },
  {
    name: 'reference Map store (sync)',
    create: () => new MapStore(),
    createSibling: (store) => new MapStore(store.backend, 'b:'),
    capabilities: { binary: true },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'reference Map store (async, copying)',
    create: () => new AsyncMapStore(),
    createSibling: (store) => new AsyncMapStore(store.inner.backend, 'other:'),
    capabilities: { binary: true },
  },
)

describe('the suite adapts to the store', () => {
  test('expiry cases run on a fake clock through the sleep capability', async () => {
    jest.useFakeTimers({ now: 1_700_000_000_000 })
    try {
      const slept: number[] = []
      const cases = storageCases({
        name: 'fake clock',
        create: () => new MapStore(),
        capabilities: {
          sleep: async (s) => {
            slept.push(s)
            jest.advanceTimersByTime(s * 1000)
          },
        },
      }).filter((c) => c.group === 'expiry')
      expect(cases.length).toBe(5)
      for (const c of cases) await c.run()
      expect(slept.every((s) => s === 0.5)).toBe(true)
    } finally {
      jest.useRealTimers()
    }
  })

  test('capabilities and options select cases', () => {
    const all = storageCases({ name: 'x', create: () => new MapStore(), createSibling: () => new MapStore(), capabilities: { binary: true } })
    const names = all.map((c) => c.name)
    expect(new Set(names).size).toBe(names.length) // unique names
    expect(names.some((n) => n.includes('Uint8Array'))).toBe(true)
    expect(names.some((n) => n.includes('sibling'))).toBe(true)

    const fewer = storageCases({
      name: 'y',
      create: () => new MapStore(),
      capabilities: { concurrency: false, expiry: false, maxValueBytes: 1000 },
      skip: [/^keys that differ/],
    })
    const fewerNames = fewer.map((c) => c.name)
    expect(fewerNames.some((n) => n.includes('Uint8Array'))).toBe(false)
    expect(fewerNames.some((n) => n.includes('sibling'))).toBe(false)
    expect(fewerNames.some((n) => n.includes('atomic'))).toBe(false)
    expect(fewer.some((c) => c.group === 'expiry')).toBe(false)
    expect(fewerNames.some((n) => n.startsWith('keys that differ'))).toBe(false)
    expect(fewerNames).toContain('a large string value (1000 bytes) round-trips')
  })

  test('cleanup receives every store a case created, siblings included', async () => {
    const cleaned: MapStore[] = []
    const sib = storageCases({
      name: 'z',
      create: () => new MapStore(),
      createSibling: (s) => new MapStore(s.backend, 'sib:'),
      cleanup: (s) => void cleaned.push(s),
    }).find((c) => c.name.startsWith('clear removes only'))!
    await sib.run()
    expect(cleaned.map((s) => s.prefix)).toEqual(['a:', 'sib:'])
  })

  test('runStorageSuite rejects a runner without describe/test', () => {
    expect(() => runStorageSuite({} as never, { name: 'x', create: () => new MapStore() })).toThrow(TypeError)
  })
})

// ------------------------------------------------------------------ broken stores: the suite must fail
/** Check-then-act across an await: not atomic. */
class NonAtomicStore extends AsyncMapStore {
  override async setIfNotExists(key: string, value: unknown, ttl: number) {
    if (await this.exists(key)) return false
    await this.set(key, value, ttl)
    return true
  }
}
/** clear() wipes the whole backend, siblings' keys included. */
class GreedyClearStore extends MapStore {
  override clear() {
    this.backend.clear()
  }
}
/** Ignores TTLs. */
class ImmortalStore extends MapStore {
  override set(key: string, value: unknown) {
    super.set(key, value, 0)
  }
  override setEntry(key: string, entry: StorageEntry) {
    super.setEntry(key, entry, 0)
  }
}
/** Loses falsy values and stored undefined literally; drops timestamp precision; treats stale as gone. */
class SloppyStore extends MapStore {
  override set(key: string, value: unknown, ttl: number) {
    if (value === undefined) {
      const now = Date.now() / 1000
      return super.setEntry(key, { value, createdAt: now, freshUntil: Infinity }, 0)
    }
    super.set(key, value, ttl)
  }
  override get(key: string) {
    return super.get(key) || undefined
  }
  override getEntry(key: string) {
    const e = super.getEntry(key)
    if (!e || e.freshUntil <= Date.now() / 1000) return undefined
    return { ...e, createdAt: Math.round(e.createdAt) }
  }
  override getMany(keys: string[]) {
    const m = super.getMany(keys)
    m.set('phantom', 1)
    return m
  }
}
/** Case-folds and normalises keys like a careless filesystem store. */
class CaseFoldingStore extends MapStore {
  private fold(key: string) {
    return key.toLowerCase().replace(/^\.\.\//, '')
  }
  override get(key: string) { return super.get(this.fold(key)) }
  override set(key: string, value: unknown, ttl: number) { super.set(this.fold(key), value, ttl) }
  override getEntry(key: string) { return super.getEntry(this.fold(key)) }
}

async function failures(store: () => StorageUnderTest, createSibling?: (s: any) => StorageUnderTest, expiry = false) {
  const failed: string[] = []
  for (const c of storageCases({ name: 'broken', create: store, createSibling, capabilities: { expiry } })) {
    try {
      await c.run()
    } catch (error) {
      expect((error as Error).name).toBe('AssertionError')
      failed.push(c.name)
    }
  }
  return failed
}

describe('the suite fails broken stores', () => {
  test('a non-atomic setIfNotExists fails the atomicity case', async () => {
    const failed = await failures(() => new NonAtomicStore())
    expect(failed).toEqual(['setIfNotExists is atomic: of 50 concurrent callers exactly one wins'])
  })

  test('a clear() that removes everything fails the sibling case', async () => {
    const failed = await failures(
      () => new GreedyClearStore(),
      (s: GreedyClearStore) => new GreedyClearStore(s.backend, 'sib:'),
    )
    expect(failed).toEqual(['clear removes only this store’s keys: a sibling store keeps its own'])
  })

  test('a store that ignores TTLs fails the expiry cases', async () => {
    const failed = await failures(() => new ImmortalStore(), undefined, true)
    expect(failed).toEqual(
      expect.arrayContaining([
        'set with a ttl: present before it passes, absent from get/exists/getEntry/getMany after',
        'setMany applies its ttl to every item',
        'setEntry with an explicit physical ttl expires after that ttl',
        'setIfNotExists succeeds over an expired key',
      ]),
    )
  })

  test('a sloppy store fails the falsy, undefined, timestamp, stale and getMany cases', async () => {
    const failed = await failures(() => new SloppyStore())
    expect(failed).toEqual(
      expect.arrayContaining([
        'falsy values 0, empty string, false and null round-trip and exist',
        'set(key, undefined) either throws a TypeError or stores nothing (undefined is never stored)',
        'setEntry then getEntry preserves createdAt and freshUntil exactly (fractional seconds)',
        'a stale entry (freshUntil past, physical ttl still running) is still returned by getEntry and get',
        'getMany returns the present keys and leaves missing keys out of the map',
      ]),
    )
  })

  test('a key-folding store fails the odd-keys and case cases', async () => {
    const failed = await failures(() => new CaseFoldingStore())
    expect(failed).toEqual(
      expect.arrayContaining([
        'keys with spaces, colons, slashes, dots and traversal (a:b/c, ../x) are stored as given',
        'keys that differ only by case are distinct',
      ]),
    )
  })
})
