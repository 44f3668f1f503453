/**
 * `@acache/storage-test-suite` — the conformance suite every acache `CacheStorage` runs.
 *
 * Runner-agnostic: the suite registers its cases through the `describe` / `test` functions you
 * pass in (jest, vitest, mocha, `node:test`, …), or hands them to you as plain
 * `{ name, run }` objects through {@link storageCases}. Assertions use `node:assert/strict`, so
 * a failing case rejects with an `AssertionError` that any runner reports.
 *
 * This package deliberately does not import `@acache/core` (core's own tests use it); it
 * declares the protocol structurally as {@link StorageUnderTest}.
 *
 * @packageDocumentation
 */
import assert from 'node:assert/strict'

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>

/** One stored value with its timestamps, in epoch seconds (`freshUntil` is `Infinity` for no expiry). */
export interface StorageEntry<T = unknown> {
  value: T
  freshUntil: number
  createdAt: number
}

/**
 * The storage protocol, structurally (the same shape as `CacheStorage` in `@acache/core`).
 * Every result may be a value or a promise; the suite always awaits.
 */
export interface StorageUnderTest {
  get(key: string): MaybePromise<unknown>
  set(key: string, value: unknown, ttl: number): MaybePromise<void>
  delete(key: string): MaybePromise<void>
  exists(key: string): MaybePromise<boolean>
  getEntry(key: string): MaybePromise<StorageEntry | undefined>
  setEntry(key: string, entry: StorageEntry, ttl?: number): MaybePromise<void>
  setIfNotExists(key: string, value: unknown, ttl: number): MaybePromise<boolean>
  getMany(keys: string[]): MaybePromise<Map<string, unknown>>
  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): MaybePromise<void>
  clear(): MaybePromise<void>
}

/** What the store under test can do; the suite adapts its cases to it. */
export interface StorageCapabilities {
  /**
   * The granularity of the store's TTLs, in seconds (e.g. `1` for a backend that only keeps whole
   * seconds). Expiry cases use a TTL of at least this and wait `ttl + max(0.2, resolution)`.
   * Default `0` (millisecond precision): TTL 0.3 s, wait 0.5 s.
   */
  ttlResolutionSeconds?: number
  /**
   * How to let time pass, in seconds. Default: a real `setTimeout` wait. Pass your own when the
   * store runs on a fake clock (e.g. jest fake timers: advance the clock, then resolve).
   */
  sleep?(seconds: number): Promise<void>
  /** Whether the store's serializer keeps `Uint8Array` values (enables the binary case). Default `false`. */
  binary?: boolean
  /** The largest value the store accepts, in bytes; the large-value case uses `min(1 MB, this)`. */
  maxValueBytes?: number
  /**
   * How many concurrent `setIfNotExists` callers the atomicity case races (default 50).
   * `0` or `false` skips the case (for a store that documents it is not atomic).
   */
  concurrency?: number | false
  /** Whether the expiry cases (which wait real or fake time) run. Default `true`. */
  expiry?: boolean
}

/** How to get a store under test, and what it can do. */
export interface StorageSuiteOptions<S extends StorageUnderTest = StorageUnderTest> {
  /** Shown in the `describe` title. */
  name: string
  /** A fresh store. Called once per case (the suite also calls `clear()` on it before the case). */
  create: () => MaybePromise<S>
  /** Called after each case with every store the case created (including siblings). */
  cleanup?: (store: S) => MaybePromise<void>
  /**
   * A second store on the same backend under another namespace / prefix. When given, the suite
   * checks that the two do not see each other's keys and that `clear()` of one leaves the other's.
   */
  createSibling?: (store: S) => MaybePromise<S>
  capabilities?: StorageCapabilities
  /** Case names (exact strings or patterns) to leave out. */
  skip?: Array<string | RegExp>
}

/** The runner functions the suite registers with. `beforeEach` / `afterEach` are accepted but not needed. */
export interface SuiteRunner {
  describe: (name: string, fn: () => void) => unknown
  test: (name: string, fn: () => Promise<void>) => unknown
  /** Not needed: every case creates, clears and cleans up its own store. Accepted so `{ describe, test, beforeEach, afterEach }` can be passed as is. */
  beforeEach?: unknown
  afterEach?: unknown
}

/** One conformance case: `run()` resolves when the store conforms and rejects (an `AssertionError`) when not. */
export interface StorageCase {
  /** The group it belongs to (`basics`, `expiry`, `entries`, …). */
  group: string
  /** A descriptive name. */
  name: string
  run: () => Promise<void>
}

const MB = 1024 * 1024

const tag = (x: unknown): string => Object.prototype.toString.call(x)

/**
 * Structural deep equality that is realm-safe: values decoded by a serializer may come from another
 * realm (jest runs tests in a vm context; `Buffer`, `structuredClone` and `v8.deserialize` build
 * objects with the host's prototypes), so types are compared by their `toString` tag, never by
 * prototype identity. Primitives compare with `Object.is` (so `-0` and `NaN` are exact).
 */
function sameStructure(actual: unknown, expected: unknown, path: string): string | undefined {
  if (typeof expected !== 'object' || expected === null) {
    return Object.is(actual, expected) ? undefined : `${path}: ${String(actual)} !== ${String(expected)}`
  }
  if (typeof actual !== 'object' || actual === null) return `${path}: expected an object, got ${String(actual)}`
  const t = tag(expected)
  if (tag(actual) !== t) return `${path}: expected ${t}, got ${tag(actual)}`
  if (Array.isArray(expected)) {
    const a = actual as unknown[]
    if (a.length !== expected.length) return `${path}: length ${a.length} !== ${expected.length}`
    for (let i = 0; i < expected.length; i++) {
      const d = sameStructure(a[i], expected[i], `${path}[${i}]`)
      if (d) return d
    }
    return undefined
  }
  if (t === '[object Map]') {
    const a = actual as Map<unknown, unknown>
    const e = expected as Map<unknown, unknown>
    if (a.size !== e.size) return `${path}: size ${a.size} !== ${e.size}`
    for (const [k, v] of e) {
      if (!a.has(k)) return `${path}: missing key ${String(k)}`
      const d = sameStructure(a.get(k), v, `${path}.get(${String(k)})`)
      if (d) return d
    }
    return undefined
  }
  const ek = Object.keys(expected as object)
  const ak = Object.keys(actual as object)
  if (ak.length !== ek.length) return `${path}: keys [${ak.join(', ')}] !== [${ek.join(', ')}]`
  for (const k of ek) {
    if (!Object.prototype.hasOwnProperty.call(actual, k)) return `${path}: missing property ${k}`
    const d = sameStructure((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`)
    if (d) return d
  }
  return undefined
}

/** `assert.deepStrictEqual` without prototype identity (see {@link sameStructure}). */
function same(actual: unknown, expected: unknown, message?: string): void {
  const diff = sameStructure(actual, expected, 'value')
  if (diff) assert.fail(message ? `${message} — ${diff}` : diff)
}

const isMap = (x: unknown): x is Map<string, unknown> => tag(x) === '[object Map]'
const isBytes = (x: unknown): x is Uint8Array => tag(x) === '[object Uint8Array]'

const realSleep = (seconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.ceil(seconds * 1000)))

const nowSeconds = (): number => Date.now() / 1000

interface CaseContext<S extends StorageUnderTest> {
  store: S
  /** Creates a sibling store (only in cases registered with `needsSibling`). */
  sibling: () => Promise<S>
  sleep: (seconds: number) => Promise<void>
  /** A short TTL that suits the store. */
  ttl: number
  /** How long to wait for an entry with {@link ttl} to expire. */
  expiryWait: number
}

interface CaseDef<S extends StorageUnderTest> {
  group: string
  name: string
  enabled?: boolean
  needsSibling?: boolean
  body: (ctx: CaseContext<S>) => Promise<void>
}

/** Asserts that `run` either throws/rejects a `TypeError` or completes. Returns whether it threw. */
async function throwsTypeErrorOrCompletes(run: () => MaybePromise<unknown>): Promise<boolean> {
  try {
    await run()
    return false
  } catch (error) {
    assert.ok(error instanceof TypeError || (error as Error | null)?.name === 'TypeError', `expected a TypeError or no error, got ${String(error)}`)
    return true
  }
}

function bytesEqual(actual: unknown, expected: Uint8Array): void {
  assert.ok(isBytes(actual), `expected a Uint8Array back, got ${Object.prototype.toString.call(actual)}`)
  assert.equal(actual.byteLength, expected.byteLength, 'byte length differs')
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) assert.fail(`byte ${i} differs: ${actual[i]} !== ${expected[i]}`)
  }
}

function defineCases<S extends StorageUnderTest>(caps: StorageCapabilities): CaseDef<S>[] {
  const concurrency = caps.concurrency === false ? 0 : (caps.concurrency ?? 50)
  const expiry = caps.expiry !== false
  const binary = caps.binary === true
  const largeBytes = Math.min(MB, caps.maxValueBytes ?? MB)

  return [
    // ---------------------------------------------------------------- basics
    {
      group: 'basics',
      name: 'get of a missing key resolves to undefined and exists to false',
      body: async ({ store }) => {
        assert.equal(await store.get('missing'), undefined)
        assert.equal(await store.exists('missing'), false)
        assert.equal(await store.getEntry('missing'), undefined)
      },
    },
    {
      group: 'basics',
      name: 'set then get round-trips a plain object (deep-equal)',
      body: async ({ store }) => {
        const value = { id: 1, name: 'Ada', tags: ['a', 'b'], nested: { deep: { ok: true } } }
        await store.set('obj', value, 0)
        same(await store.get('obj'), value)
      },
    },
    {
      group: 'basics',
      name: 'set then get round-trips arrays (including nested and empty arrays)',
      body: async ({ store }) => {
        await store.set('arr', [1, 'two', { three: 3 }, [4, [5]]], 0)
        await store.set('empty-arr', [], 0)
        same(await store.get('arr'), [1, 'two', { three: 3 }, [4, [5]]])
        same(await store.get('empty-arr'), [])
      },
    },
    {
      group: 'basics',
      name: 'set then get round-trips strings (including unicode content)',
      body: async ({ store }) => {
        const values = ['hello', 'with spaces and\nnewlines\t', 'ünïcödé — 日本語 — 🚀👩‍👩‍👧']
        for (const [i, v] of values.entries()) await store.set(`str:${i}`, v, 0)
        for (const [i, v] of values.entries()) assert.equal(await store.get(`str:${i}`), v)
      },
    },
    {
      group: 'basics',
      name: 'set then get round-trips numbers (integers, negatives, floats, large)',
      body: async ({ store }) => {
        const values = [42, -7, 3.141592653589793, 1e21, Number.MAX_SAFE_INTEGER, -0.5]
        for (const [i, v] of values.entries()) await store.set(`num:${i}`, v, 0)
        for (const [i, v] of values.entries()) assert.equal(await store.get(`num:${i}`), v)
      },
    },
    {
      group: 'basics',
      name: 'falsy values 0, empty string, false and null round-trip and exist',
      body: async ({ store }) => {
        const values: Array<[string, unknown]> = [['zero', 0], ['empty', ''], ['false', false], ['null', null]]
        for (const [k, v] of values) await store.set(k, v, 0)
        for (const [k, v] of values) {
          assert.equal(await store.get(k), v, `get(${k})`)
          assert.equal(await store.exists(k), true, `exists(${k})`)
          const entry = await store.getEntry(k)
          assert.ok(entry !== undefined, `getEntry(${k}) is undefined`)
          assert.equal(entry.value, v, `getEntry(${k}).value`)
        }
        const many = await store.getMany(values.map(([k]) => k))
        assert.equal(many.size, values.length, 'getMany left out a falsy value')
        for (const [k, v] of values) assert.equal(many.get(k), v, `getMany ${k}`)
      },
    },
    {
      group: 'basics',
      name: 'set(key, undefined) either throws a TypeError or stores nothing (undefined is never stored)',
      body: async ({ store }) => {
        await throwsTypeErrorOrCompletes(() => store.set('undef', undefined, 0))
        assert.equal(await store.get('undef'), undefined)
        assert.equal(await store.exists('undef'), false, 'an undefined value must not be stored')
        const many = await store.getMany(['undef'])
        assert.equal(many.has('undef'), false)
      },
    },
    {
      group: 'basics',
      name: 'set overwrites an existing value',
      body: async ({ store }) => {
        await store.set('k', 'first', 0)
        await store.set('k', { second: true }, 0)
        same(await store.get('k'), { second: true })
        await store.set('k', 3, 0)
        assert.equal(await store.get('k'), 3)
      },
    },
    {
      group: 'basics',
      name: 'exists is true after set and false after delete',
      body: async ({ store }) => {
        await store.set('k', 'v', 0)
        assert.equal(await store.exists('k'), true)
        await store.delete('k')
        assert.equal(await store.exists('k'), false)
        assert.equal(await store.get('k'), undefined)
        assert.equal(await store.getEntry('k'), undefined)
      },
    },
    {
      group: 'basics',
      name: 'delete of a missing key resolves without error',
      body: async ({ store }) => {
        await store.delete('never-set')
        await store.delete('never-set')
        assert.equal(await store.exists('never-set'), false)
      },
    },
    {
      group: 'basics',
      name: 'delete removes only the given key',
      body: async ({ store }) => {
        await store.set('a', 1, 0)
        await store.set('b', 2, 0)
        await store.delete('a')
        assert.equal(await store.get('a'), undefined)
        assert.equal(await store.get('b'), 2)
      },
    },

    // ---------------------------------------------------------------- expiry
    {
      group: 'expiry',
      name: 'set with a ttl: present before it passes, absent from get/exists/getEntry/getMany after',
      enabled: expiry,
      body: async ({ store, sleep, ttl, expiryWait }) => {
        await store.set('short', 'v', ttl)
        await store.set('long', 'kept', 0)
        assert.equal(await store.get('short'), 'v')
        assert.equal(await store.exists('short'), true)
        await sleep(expiryWait)
        assert.equal(await store.get('short'), undefined, 'get after the ttl')
        assert.equal(await store.exists('short'), false, 'exists after the ttl')
        assert.equal(await store.getEntry('short'), undefined, 'getEntry after the ttl')
        const many = await store.getMany(['short', 'long'])
        assert.equal(many.has('short'), false, 'getMany after the ttl')
        assert.equal(many.get('long'), 'kept')
      },
    },
    {
      group: 'expiry',
      name: 'ttl 0 never expires, and overwriting a short-ttl key with ttl 0 removes its expiry',
      enabled: expiry,
      body: async ({ store, sleep, ttl, expiryWait }) => {
        await store.set('forever', 'v', 0)
        await store.set('was-short', 'first', ttl)
        await store.set('was-short', 'second', 0)
        await sleep(expiryWait)
        assert.equal(await store.get('forever'), 'v')
        assert.equal(await store.get('was-short'), 'second')
        const entry = await store.getEntry('forever')
        assert.equal(entry?.freshUntil, Infinity, 'an entry without expiry has freshUntil Infinity')
      },
    },
    {
      group: 'expiry',
      name: 'setMany applies its ttl to every item',
      enabled: expiry,
      body: async ({ store, sleep, ttl, expiryWait }) => {
        await store.setMany({ m1: 1, m2: 2 }, ttl)
        same(await store.getMany(['m1', 'm2']), new Map<string, unknown>([['m1', 1], ['m2', 2]]))
        await sleep(expiryWait)
        assert.equal((await store.getMany(['m1', 'm2'])).size, 0)
        assert.equal(await store.get('m1'), undefined)
      },
    },
    {
      group: 'expiry',
      name: 'setEntry with an explicit physical ttl expires after that ttl',
      enabled: expiry,
      body: async ({ store, sleep, ttl, expiryWait }) => {
        const now = nowSeconds()
        await store.setEntry('e', { value: 'v', createdAt: now, freshUntil: now + 3600 }, ttl)
        assert.equal((await store.getEntry('e'))?.value, 'v')
        await sleep(expiryWait)
        assert.equal(await store.getEntry('e'), undefined)
        assert.equal(await store.get('e'), undefined)
      },
    },
    {
      group: 'expiry',
      name: 'setIfNotExists succeeds over an expired key',
      enabled: expiry,
      body: async ({ store, sleep, ttl, expiryWait }) => {
        assert.equal(await store.setIfNotExists('lock', 'old', ttl), true)
        assert.equal(await store.setIfNotExists('lock', 'blocked', ttl), false)
        await sleep(expiryWait)
        assert.equal(await store.setIfNotExists('lock', 'new', 0), true, 'the expired key must count as absent')
        assert.equal(await store.get('lock'), 'new')
      },
    },

    // ---------------------------------------------------------------- entries
    {
      group: 'entries',
      name: 'getEntry after set reports createdAt ≈ now and freshUntil ≈ now + ttl',
      body: async ({ store }) => {
        const before = nowSeconds()
        await store.set('k', 'v', 60)
        const after = nowSeconds()
        const entry = await store.getEntry('k')
        assert.ok(entry, 'getEntry returned nothing')
        assert.equal(entry.value, 'v')
        // a little slack for backends whose clock is not ours
        assert.ok(entry.createdAt >= before - 2 && entry.createdAt <= after + 2, `createdAt ${entry.createdAt} not ≈ now ${before}`)
        assert.ok(Math.abs(entry.freshUntil - entry.createdAt - 60) < 2, `freshUntil ${entry.freshUntil} not ≈ createdAt + 60`)
      },
    },
    {
      group: 'entries',
      name: 'setEntry then getEntry preserves createdAt and freshUntil exactly (fractional seconds)',
      body: async ({ store }) => {
        const now = nowSeconds()
        const entry = { value: { a: 1 }, createdAt: now - 10.123456, freshUntil: now + 100.654321 }
        await store.setEntry('e', entry, 200)
        const back = await store.getEntry('e')
        assert.ok(back, 'getEntry returned nothing')
        same(back.value, { a: 1 })
        assert.equal(back.createdAt, entry.createdAt)
        assert.equal(back.freshUntil, entry.freshUntil)
        same(await store.get('e'), { a: 1 })
      },
    },
    {
      group: 'entries',
      name: 'setEntry with freshUntil Infinity round-trips Infinity (no expiry)',
      body: async ({ store }) => {
        const createdAt = Math.floor(nowSeconds()) - 5
        await store.setEntry('inf', { value: 'x', createdAt, freshUntil: Infinity })
        const back = await store.getEntry('inf')
        assert.ok(back, 'getEntry returned nothing')
        assert.equal(back.freshUntil, Infinity)
        assert.equal(back.createdAt, createdAt)
        assert.equal(back.value, 'x')
      },
    },
    {
      group: 'entries',
      name: 'setEntry without ttl keeps the entry until its freshUntil',
      body: async ({ store }) => {
        const now = nowSeconds()
        await store.setEntry('until', { value: 'v', createdAt: now, freshUntil: now + 60 })
        assert.equal((await store.getEntry('until'))?.value, 'v')
        assert.equal(await store.get('until'), 'v')
      },
    },
    {
      group: 'entries',
      name: 'a stale entry (freshUntil past, physical ttl still running) is still returned by getEntry and get',
      body: async ({ store }) => {
        const now = nowSeconds()
        const entry = { value: 'stale-but-here', createdAt: now - 100, freshUntil: now - 40 }
        await store.setEntry('stale', entry, 60)
        const back = await store.getEntry('stale')
        assert.ok(back, 'a stale entry inside its physical ttl must be returned (the engine serves it while revalidating)')
        assert.equal(back.value, 'stale-but-here')
        assert.equal(back.freshUntil, entry.freshUntil)
        assert.equal(back.createdAt, entry.createdAt)
        assert.equal(await store.exists('stale'), true)
        assert.equal(await store.get('stale'), 'stale-but-here')
      },
    },
    {
      group: 'entries',
      name: 'setEntry overwrites a value written by set',
      body: async ({ store }) => {
        await store.set('k', 'old', 0)
        const now = nowSeconds()
        await store.setEntry('k', { value: 'new', createdAt: now, freshUntil: now + 30 }, 60)
        assert.equal(await store.get('k'), 'new')
        assert.equal((await store.getEntry('k'))?.freshUntil, now + 30)
      },
    },

    // ---------------------------------------------------------------- setIfNotExists
    {
      group: 'setIfNotExists',
      name: 'setIfNotExists stores when absent (true) and keeps the existing value when present (false)',
      body: async ({ store }) => {
        assert.equal(await store.setIfNotExists('nx', 'first', 0), true)
        assert.equal(await store.setIfNotExists('nx', 'second', 0), false)
        assert.equal(await store.get('nx'), 'first')
        await store.set('nx2', 0, 0)
        assert.equal(await store.setIfNotExists('nx2', 'other', 0), false, 'a stored falsy value counts as present')
        assert.equal(await store.get('nx2'), 0)
      },
    },
    {
      group: 'setIfNotExists',
      name: 'setIfNotExists succeeds again after the key is deleted',
      body: async ({ store }) => {
        assert.equal(await store.setIfNotExists('nx', 1, 0), true)
        await store.delete('nx')
        assert.equal(await store.setIfNotExists('nx', 2, 0), true)
        assert.equal(await store.get('nx'), 2)
      },
    },
    {
      group: 'setIfNotExists',
      name: `setIfNotExists is atomic: of ${concurrency} concurrent callers exactly one wins`,
      enabled: concurrency > 0,
      body: async ({ store }) => {
        const results = await Promise.all(
          Array.from({ length: concurrency }, (_, i) => Promise.resolve().then(() => store.setIfNotExists('race', i, 0))),
        )
        const winners = results.flatMap((won, i) => (won ? [i] : []))
        assert.equal(winners.length, 1, `expected exactly one winner, got ${winners.length}`)
        assert.equal(await store.get('race'), winners[0], 'the stored value must be the winner’s')
      },
    },

    // ---------------------------------------------------------------- many
    {
      group: 'many',
      name: 'getMany returns the present keys and leaves missing keys out of the map',
      body: async ({ store }) => {
        await store.set('a', 1, 0)
        await store.set('b', { two: 2 }, 0)
        const got = await store.getMany(['a', 'missing', 'b'])
        assert.ok(isMap(got), 'getMany must resolve to a Map')
        assert.equal(got.size, 2)
        assert.equal(got.get('a'), 1)
        same(got.get('b'), { two: 2 })
        assert.equal(got.has('missing'), false)
      },
    },
    {
      group: 'many',
      name: 'getMany of an empty list resolves to an empty Map',
      body: async ({ store }) => {
        const got = await store.getMany([])
        assert.ok(isMap(got), 'getMany must resolve to a Map')
        assert.equal(got.size, 0)
      },
    },
    {
      group: 'many',
      name: 'setMany accepts a Map',
      body: async ({ store }) => {
        await store.setMany(new Map<string, unknown>([['m1', 'one'], ['m2', [2]], ['m3', 0]]), 0)
        assert.equal(await store.get('m1'), 'one')
        same(await store.get('m2'), [2])
        assert.equal(await store.get('m3'), 0)
      },
    },
    {
      group: 'many',
      name: 'setMany accepts a plain Record',
      body: async ({ store }) => {
        await store.setMany({ r1: 'one', r2: { two: 2 }, r3: false }, 0)
        const got = await store.getMany(['r1', 'r2', 'r3'])
        assert.equal(got.get('r1'), 'one')
        same(got.get('r2'), { two: 2 })
        assert.equal(got.get('r3'), false)
      },
    },
    {
      group: 'many',
      name: 'setMany with an empty Map or Record is a no-op',
      body: async ({ store }) => {
        await store.setMany(new Map(), 0)
        await store.setMany({}, 10)
        assert.equal((await store.getMany(['anything'])).size, 0)
      },
    },
    {
      group: 'many',
      name: 'setMany overwrites existing values',
      body: async ({ store }) => {
        await store.set('o', 'old', 0)
        await store.setMany({ o: 'new' }, 0)
        assert.equal(await store.get('o'), 'new')
      },
    },

    // ---------------------------------------------------------------- clear
    {
      group: 'clear',
      name: 'clear removes every key of the store',
      body: async ({ store }) => {
        await store.setMany({ c1: 1, c2: 2 }, 0)
        await store.set('c3', 3, 60)
        await store.clear()
        assert.equal((await store.getMany(['c1', 'c2', 'c3'])).size, 0)
        assert.equal(await store.exists('c1'), false)
        await store.set('c1', 'after', 0)
        assert.equal(await store.get('c1'), 'after', 'the store must be usable after clear()')
      },
    },
    {
      group: 'clear',
      name: 'a sibling store (another prefix on the same backend) does not see this store’s keys',
      needsSibling: true,
      body: async ({ store, sibling }) => {
        const other = await sibling()
        await store.set('shared-name', 'mine', 0)
        await other.set('shared-name', 'theirs', 0)
        assert.equal(await store.get('shared-name'), 'mine')
        assert.equal(await other.get('shared-name'), 'theirs')
        await store.set('only-mine', 1, 0)
        assert.equal(await other.exists('only-mine'), false)
      },
    },
    {
      group: 'clear',
      name: 'clear removes only this store’s keys: a sibling store keeps its own',
      needsSibling: true,
      body: async ({ store, sibling }) => {
        const other = await sibling()
        await store.setMany({ x1: 1, x2: 2 }, 0)
        await other.setMany({ x1: 'o1', y: 'oy' }, 0)
        await store.clear()
        assert.equal((await store.getMany(['x1', 'x2', 'y'])).size, 0)
        assert.equal(await other.get('x1'), 'o1', 'clear() removed a sibling’s key')
        assert.equal(await other.get('y'), 'oy', 'clear() removed a sibling’s key')
      },
    },

    // ---------------------------------------------------------------- values
    {
      group: 'values',
      name: 'Uint8Array values round-trip byte for byte',
      enabled: binary,
      body: async ({ store }) => {
        const bytes = new Uint8Array(512)
        for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256
        await store.set('bin', bytes, 0)
        bytesEqual(await store.get('bin'), bytes)
        await store.set('bin-empty', new Uint8Array(0), 0)
        bytesEqual(await store.get('bin-empty'), new Uint8Array(0))
      },
    },
    {
      group: 'values',
      name: `a large string value (${largeBytes >= MB ? '1 MB' : `${largeBytes} bytes`}) round-trips`,
      body: async ({ store }) => {
        const chunk = 'abcdefghijklmnopqrstuvwxyz0123456789-'
        // leave room for serializer framing when the store declares a limit
        const length = largeBytes >= MB ? MB : Math.max(1, largeBytes - 64)
        const big = chunk.repeat(Math.ceil(length / chunk.length)).slice(0, length)
        await store.set('big', big, 0)
        const back = await store.get('big')
        assert.equal(typeof back, 'string')
        assert.equal((back as string).length, big.length)
        assert.ok(back === big, 'the large value came back different')
      },
    },

    // ---------------------------------------------------------------- keys
    {
      group: 'keys',
      name: 'unicode and emoji keys work',
      body: async ({ store }) => {
        const keys = ['ключ', '鍵', 'clé:é', '🔑', '👩‍💻:🚀']
        for (const [i, k] of keys.entries()) await store.set(k, i, 0)
        for (const [i, k] of keys.entries()) assert.equal(await store.get(k), i, `key ${k}`)
        const many = await store.getMany(keys)
        assert.equal(many.size, keys.length)
      },
    },
    {
      group: 'keys',
      name: 'keys with spaces, colons, slashes, dots and traversal (a:b/c, ../x) are stored as given',
      body: async ({ store }) => {
        const keys = ['with space', 'a:b/c', '../x', './y', 'a/../b', 'p%20q', 'back\\slash', 'q?x=1&y=2#h', '*', 'x/']
        for (const [i, k] of keys.entries()) await store.set(k, `v${i}`, 0)
        for (const [i, k] of keys.entries()) assert.equal(await store.get(k), `v${i}`, `key ${JSON.stringify(k)}`)
        assert.equal(await store.get('x'), undefined, "'../x' must not alias 'x'")
        assert.equal(await store.get('b'), undefined, "'a/../b' must not alias 'b'")
        await store.delete('a:b/c')
        assert.equal(await store.get('a:b/c'), undefined)
        assert.equal(await store.get('../x'), 'v2')
      },
    },
    {
      group: 'keys',
      name: 'a 200-character key works',
      body: async ({ store }) => {
        const key = 'k'.repeat(150) + ':'.repeat(10) + 'z'.repeat(40)
        assert.equal(key.length, 200)
        await store.set(key, 'long-key', 0)
        assert.equal(await store.get(key), 'long-key')
        assert.equal(await store.get(key.slice(0, 199)), undefined)
      },
    },
    {
      group: 'keys',
      name: 'keys that differ only by case are distinct',
      body: async ({ store }) => {
        await store.set('User:1', 'upper', 0)
        await store.set('user:1', 'lower', 0)
        assert.equal(await store.get('User:1'), 'upper')
        assert.equal(await store.get('user:1'), 'lower')
        await store.delete('user:1')
        assert.equal(await store.get('User:1'), 'upper')
      },
    },
  ]
}

function isSkipped(name: string, skip: Array<string | RegExp> | undefined): boolean {
  return skip?.some((s) => (typeof s === 'string' ? s === name : s.test(name))) ?? false
}

/**
 * The conformance cases as plain `{ group, name, run }` objects, for runners without `describe`
 * or for custom harnesses. Each `run()` creates a store, clears it, runs the case and cleans up.
 * Cases the capabilities disable (or `skip` names) are left out; so are the sibling cases when no
 * `createSibling` is given.
 *
 * @example
 * ```ts
 * for (const c of storageCases({ name: 'mine', create: () => new MyStore() })) {
 *   await c.run() // rejects with an AssertionError when the store does not conform
 * }
 * ```
 */
export function storageCases<S extends StorageUnderTest>(options: StorageSuiteOptions<S>): StorageCase[] {
  const caps = options.capabilities ?? {}
  const resolution = Math.max(0, caps.ttlResolutionSeconds ?? 0)
  const ttl = Math.max(0.3, resolution)
  const expiryWait = ttl + Math.max(0.2, resolution)
  const sleep = caps.sleep ?? realSleep

  return defineCases<S>(caps)
    .filter((c) => c.enabled !== false)
    .filter((c) => !c.needsSibling || options.createSibling !== undefined)
    .filter((c) => !isSkipped(c.name, options.skip))
    .map((c) => ({
      group: c.group,
      name: c.name,
      run: async () => {
        const store = await options.create()
        const created: S[] = [store]
        try {
          await store.clear()
          const sibling = async (): Promise<S> => {
            if (!options.createSibling) throw new Error('no createSibling given')
            const other = await options.createSibling(store)
            created.push(other)
            await other.clear()
            return other
          }
          await c.body({ store, sibling, sleep, ttl, expiryWait })
        } finally {
          if (options.cleanup) for (const s of created) await options.cleanup(s)
        }
      },
    }))
}

/**
 * Registers the conformance suite with your test runner: one `describe` for the store, one per
 * group, one `test` per case.
 *
 * @example
 * ```ts
 * // jest / vitest (globals or imported)
 * import { runStorageSuite } from '@acache/storage-test-suite'
 * runStorageSuite({ describe, test }, { name: 'InMemCache', create: () => new InMemCache() })
 *
 * // node:test
 * import { describe, test } from 'node:test'
 * runStorageSuite({ describe, test }, { name: 'MyStore', create: () => new MyStore() })
 * ```
 */
export function runStorageSuite<S extends StorageUnderTest>(runner: SuiteRunner, options: StorageSuiteOptions<S>): void {
  if (typeof runner?.describe !== 'function' || typeof runner.test !== 'function') {
    throw new TypeError('runStorageSuite: the runner must provide describe() and test() functions')
  }
  const cases = storageCases(options)
  const groups = new Map<string, StorageCase[]>()
  for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c])
  runner.describe(`storage conformance: ${options.name}`, () => {
    for (const [group, list] of groups) {
      runner.describe(group, () => {
        // the callback takes no parameter: jest would treat one as a `done` callback
        for (const c of list) runner.test(c.name, () => c.run())
      })
    }
  })
}
