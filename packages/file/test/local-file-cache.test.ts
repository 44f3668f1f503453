import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { HybridCache, InMemCache, InMemoryMetrics, SerializationError, WireFormatError, cache, serializers, type ErrorInfo } from '@acache/core'
import { FILE_HEADER_BYTES, LocalFileCache, decodeFile, type LocalFileCacheOptions } from '../src/index.js'
import { advanceSeconds, useFakeDate } from './support/fake-date.js'
import { tempDirs } from './support/temp-dirs.js'

const dirs = tempDirs('store')
afterAll(() => dirs.removeAll())
afterEach(() => jest.useRealTimers())

const VECTOR = '41d954fc4f00000041d954fc400000007b2261223a317d'
const T0 = 1_700_000_000

/** A store whose failures are collected instead of logged. */
function storeWithErrors(options: LocalFileCacheOptions = {}, dir = dirs.make()) {
  const errors: Array<{ error: unknown; info: ErrorInfo }> = []
  const store = new LocalFileCache(dir, { ...options, onError: (error, info) => errors.push({ error, info }) })
  return { store, errors, dir }
}

const entryFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.acache'))

describe('on-disk format', () => {
  test('an uncompressed file is the 24-byte header followed by exactly the wire-format test vector', async () => {
    const { store, dir } = storeWithErrors()
    await store.setEntry('vec', { value: { a: 1 }, freshUntil: T0 + 60, createdAt: T0 }, 3600)
    const bytes = readFileSync(store.pathOf('vec'))
    expect(bytes.subarray(FILE_HEADER_BYTES).toString('hex')).toBe(VECTOR)
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('acf1')
    expect(bytes[8]).toBe(0)
    const expiresAt = bytes.readDoubleBE(16)
    expect(Math.abs(expiresAt - (Date.now() / 1000 + 3600))).toBeLessThan(5)
    expect(await decodeFile(bytes, serializers.json)).toEqual({ entry: { value: { a: 1 }, freshUntil: T0 + 60, createdAt: T0 }, expiresAt })
    expect(entryFiles(dir)).toEqual(['k-vec.acache'])
  })

  test('a compressed file keeps the wire header readable and gzips only the payload', async () => {
    const { store } = storeWithErrors({ compress: true })
    await store.setEntry('vec', { value: { a: 1 }, freshUntil: T0 + 60, createdAt: T0 }, 3600)
    const bytes = readFileSync(store.pathOf('vec'))
    expect(bytes[8]).toBe(1)
    expect(bytes.subarray(FILE_HEADER_BYTES, FILE_HEADER_BYTES + 16).toString('hex')).toBe(VECTOR.slice(0, 32))
    expect(gunzipSync(bytes.subarray(FILE_HEADER_BYTES + 16)).toString()).toBe('{"a":1}')
    // Files say whether they are compressed: a store with the other setting reads them.
    expect(await new LocalFileCache(store.dir).get('vec')).toEqual({ a: 1 })
  })

  test('compression shrinks a repetitive value', async () => {
    const value = { rows: Array.from({ length: 2000 }, (_, i) => ({ id: i % 10, name: 'same name' })) }
    const plain = storeWithErrors().store
    const gz = storeWithErrors({ compress: true }).store
    await plain.set('v', value, 0)
    await gz.set('v', value, 0)
    expect(await gz.get('v')).toEqual(value)
    expect(statSync(gz.pathOf('v')).size * 10).toBeLessThan(statSync(plain.pathOf('v')).size)
  })
})

describe('expiry (fake clock)', () => {
  test('an expired entry is a miss and its file is removed; ttl 0 never expires', async () => {
    useFakeDate(T0 * 1000)
    const { store, errors } = storeWithErrors()
    await store.set('short', 'v', 10)
    await store.set('forever', 'f', 0)
    advanceSeconds(9.9)
    expect(await store.get('short')).toBe('v')
    advanceSeconds(0.2)
    expect(await store.exists('short')).toBe(false)
    expect(() => statSync(store.pathOf('short'))).toThrow(/ENOENT/)
    advanceSeconds(10 * 365 * 86400)
    expect(await store.getEntry('forever')).toEqual({ value: 'f', createdAt: T0, freshUntil: Infinity })
    expect(errors).toEqual([])
  })

  test('setEntry keeps a stale entry for its physical ttl, and without a ttl until freshUntil', async () => {
    useFakeDate(T0 * 1000)
    const { store } = storeWithErrors()
    await store.setEntry('stale', { value: 's', createdAt: T0 - 100, freshUntil: T0 - 40 }, 60)
    await store.setEntry('until', { value: 'u', createdAt: T0, freshUntil: T0 + 30 })
    expect(await store.get('stale')).toBe('s')
    advanceSeconds(29)
    expect(await store.getMany(['stale', 'until'])).toEqual(new Map([['stale', 's'], ['until', 'u']]))
    advanceSeconds(2)
    expect(await store.getMany(['stale', 'until'])).toEqual(new Map([['stale', 's']]))
    advanceSeconds(30)
    expect(await store.getMany(['stale', 'until'])).toEqual(new Map())
  })

  test('a write that is already dead removes the previous value', async () => {
    useFakeDate(T0 * 1000)
    const { store } = storeWithErrors()
    await store.set('k', 'old', 0)
    await store.setEntry('k', { value: 'dead', createdAt: T0 - 100, freshUntil: T0 - 10 })
    expect(await store.get('k')).toBeUndefined()
    expect(entryFiles(store.dir)).toEqual([])
  })

  test('cleanupExpired() removes the expired files and returns how many', async () => {
    useFakeDate(T0 * 1000)
    const { store, dir } = storeWithErrors()
    await store.setMany({ a: 1, b: 2, c: 3, d: 4, e: 5 }, 5)
    await store.setMany({ x: 1, y: 2 }, 0)
    await store.set('later', 1, 60)
    writeFileSync(join(dir, 'foreign.txt'), 'not ours')
    expect(await store.cleanupExpired()).toBe(0)
    advanceSeconds(6)
    expect(await store.cleanupExpired()).toBe(5)
    expect(entryFiles(dir).length).toBe(3)
    expect(await store.getMany(['x', 'y', 'later'])).toEqual(new Map([['x', 1], ['y', 2], ['later', 1]]))
    expect(readdirSync(dir)).toContain('foreign.txt')
    expect(await store.cleanupExpired()).toBe(0)
  })
})

describe('clear()', () => {
  test('removes its entries only: other files and directories in dir stay', async () => {
    const { store, dir } = storeWithErrors()
    await store.setMany({ a: 1, 'b/c': 2, ['k'.repeat(500)]: 3 }, 0)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'notes.txt'), 'keep')
    writeFileSync(join(dir, 'k-a.txt'), 'keep')
    writeFileSync(join(dir, 'X.acache'), 'keep')
    writeFileSync(join(dir, 'K-A.ACACHE'), 'keep')
    mkdirSync(join(dir, 'sub'))
    writeFileSync(join(dir, 'sub', 'k-a.acache'), 'keep')
    await store.clear()
    expect(readdirSync(dir).sort()).toEqual(['K-A.ACACHE', 'X.acache', 'k-a.txt', 'notes.txt', 'sub'])
    expect(readdirSync(join(dir, 'sub'))).toEqual(['k-a.acache'])
    expect(await store.getMany(['a', 'b/c'])).toEqual(new Map())
  })

  test('temp files never count as entries; leftovers of a crashed writer are swept once old', async () => {
    const { store, dir } = storeWithErrors()
    await store.set('a', 1, 0)
    const temp = join(dir, 'k-b.acache.0123456789abcdef.tmp')
    writeFileSync(temp, readFileSync(store.pathOf('a')))
    expect(await store.get('b')).toBeUndefined()
    expect(await store.cleanupExpired()).toBe(0)
    expect(readdirSync(dir)).toContain('k-b.acache.0123456789abcdef.tmp') // could be a write in progress
    const anHourAgo = Date.now() / 1000 - 3600
    utimesSync(temp, anHourAgo, anHourAgo)
    expect(await store.cleanupExpired()).toBe(0)
    expect(readdirSync(dir)).toEqual(['k-a.acache'])
  })
})

describe('dedupeWrites', () => {
  test('an identical value leaves the file (inode, value bytes) in place, yet the TTL is refreshed', async () => {
    useFakeDate(T0 * 1000)
    const { store, errors } = storeWithErrors({ dedupeWrites: true, compress: true })
    const value = { big: 'x'.repeat(10_000), n: 1 }
    await store.set('k', value, 60)
    const path = store.pathOf('k')
    const before = statSync(path, { bigint: true })
    const bytesBefore = readFileSync(path)

    advanceSeconds(50)
    await store.set('k', value, 60)
    const after = statSync(path, { bigint: true })
    const bytesAfter = readFileSync(path)
    expect(after.ino).toBe(before.ino)
    expect(bytesAfter.length).toBe(bytesBefore.length)
    expect(bytesAfter.subarray(40).equals(bytesBefore.subarray(40))).toBe(true) // the value bytes
    expect(bytesAfter.subarray(0, 4).equals(bytesBefore.subarray(0, 4))).toBe(true)
    expect(await store.getEntry('k')).toEqual({ value, createdAt: T0 + 50, freshUntil: T0 + 110 })

    advanceSeconds(50) // 100 s after the first write: past its TTL, inside the refreshed one
    expect(await store.get('k')).toEqual(value)
    advanceSeconds(11)
    expect(await store.get('k')).toBeUndefined()
    expect(errors).toEqual([])
  })

  test('an identical entry with identical times leaves the file byte for byte and its mtime unchanged', async () => {
    const { store } = storeWithErrors({ dedupeWrites: true })
    const entry = { value: [1, 2, 3], createdAt: T0, freshUntil: Infinity }
    await store.setEntry('k', entry)
    const path = store.pathOf('k')
    const old = T0 + 12345
    utimesSync(path, old, old) // an mtime no write could produce
    const before = statSync(path, { bigint: true })
    const bytes = readFileSync(path)
    await store.setEntry('k', entry)
    const after = statSync(path, { bigint: true })
    expect(after.ino).toBe(before.ino)
    expect(after.mtimeNs).toBe(before.mtimeNs)
    expect(readFileSync(path).equals(bytes)).toBe(true)
  })

  test('a different value is rewritten (a new file replaces the old one); without dedupeWrites every write does', async () => {
    const { store } = storeWithErrors({ dedupeWrites: true })
    await store.set('k', 'one', 0)
    const ino1 = statSync(store.pathOf('k')).ino
    await store.set('k', 'two', 0)
    expect(statSync(store.pathOf('k')).ino).not.toBe(ino1)
    expect(await store.get('k')).toBe('two')

    const plain = storeWithErrors().store
    await plain.set('k', 'same', 0)
    const ino2 = statSync(plain.pathOf('k')).ino
    await plain.set('k', 'same', 0)
    expect(statSync(plain.pathOf('k')).ino).not.toBe(ino2)
  })
})

describe('concurrency', () => {
  for (const dedupeWrites of [false, true]) {
    test(`readers only ever see complete values while writers replace them (dedupeWrites ${dedupeWrites})`, async () => {
      const { store, errors, dir } = storeWithErrors({ dedupeWrites })
      const other = new LocalFileCache(dir, { dedupeWrites, onError: 'raise' })
      // Values of very different sizes, each carrying its own length so a torn read is visible.
      const values = [10, 5000, 200_000, 1].map((n, i) => ({ i, n, body: String(i).repeat(n) }))
      const seen = new Set<number>()
      let stop = false
      const writer = async (s: LocalFileCache, w: number) => {
        for (let round = 0; round < 150; round++) await s.set('hot', values[(round + w) % values.length], 60)
      }
      const reader = async (s: LocalFileCache) => {
        let reads = 0
        while (!stop || reads < 50) {
          const v = (await s.get('hot')) as (typeof values)[number] | undefined
          reads++
          if (v === undefined) continue
          expect(v.body.length).toBe(v.n)
          expect(v).toEqual(values[v.i])
          seen.add(v.i)
        }
        return reads
      }
      const readers = [reader(store), reader(other), reader(store), reader(other)]
      await Promise.all([writer(store, 0), writer(other, 1), writer(store, 2)])
      stop = true
      const reads = await Promise.all(readers)
      expect(reads.reduce((a, b) => a + b)).toBeGreaterThan(200)
      expect(seen.size).toBeGreaterThan(1)
      expect(errors).toEqual([])
      expect(readdirSync(dir)).toEqual(['k-hot.acache']) // no temp file or lock left behind
    })
  }

  test('setIfNotExists over an expired entry: of 40 racers on two stores exactly one wins', async () => {
    useFakeDate(T0 * 1000)
    const { store, errors, dir } = storeWithErrors()
    const other = new LocalFileCache(dir, { onError: 'raise' })
    for (let round = 0; round < 5; round++) {
      await store.set('lock', 'expired', 1)
      advanceSeconds(2)
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).setIfNotExists('lock', i, 60)),
      )
      const winners = results.flatMap((won, i) => (won ? [i] : []))
      expect(winners.length).toBe(1)
      expect(await store.get('lock')).toBe(winners[0])
    }
    expect(errors).toEqual([])
    expect(readdirSync(dir)).toEqual(['k-lock.acache'])
  })

  test('setIfNotExists over a corrupt file reports it and stores the new value', async () => {
    const { store, errors } = storeWithErrors()
    mkdirSync(store.dir, { recursive: true })
    writeFileSync(store.pathOf('k'), 'garbage')
    expect(await store.setIfNotExists('k', 'new', 0)).toBe(true)
    expect(await store.get('k')).toBe('new')
    expect(errors.map((e) => [e.info.operation, (e.error as Error).name])).toEqual([['setIfNotExists', 'WireFormatError']])
  })
})

/** A small deterministic PRNG (mulberry32), so a failing payload can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('corrupt files', () => {
  test('1,000 fuzzed payloads: each is a miss, one reported WireFormatError, and the file removed', async () => {
    const { store, errors } = storeWithErrors()
    const gz = new LocalFileCache(store.dir, { compress: true })
    const v8 = new LocalFileCache(store.dir, { serializer: 'v8' })
    const valid: Buffer[] = []
    for (const [i, value] of [{ a: 1 }, 'text', 0, [1, 2, { b: null }], { big: 'y'.repeat(3000) }].entries()) {
      for (const s of [store, gz, v8]) {
        await s.set(`src${i}`, value, 3600)
        valid.push(readFileSync(s.pathOf(`src${i}`)))
      }
    }
    await store.clear()
    const random = prng(20240601)
    const int = (n: number) => Math.floor(random() * n)
    let kinds = { random: 0, truncated: 0, flipped: 0 }
    for (let i = 0; i < 1000; i++) {
      const base = valid[int(valid.length)]
      let bad: Buffer
      if (i % 3 === 0) {
        bad = Buffer.from(Array.from({ length: int(300) }, () => int(256)))
        kinds.random++
      } else if (i % 3 === 1) {
        bad = base.subarray(0, int(base.length))
        kinds.truncated++
      } else {
        bad = Buffer.from(base)
        for (let f = 1 + int(3); f > 0; f--) {
          const bit = int(bad.length * 8)
          bad[bit >> 3] ^= 1 << (bit & 7)
        }
        kinds.flipped++
      }
      const key = `fuzz${i % 7}`
      const reader = [store, gz, v8][i % 3]
      const op = (['get', 'getEntry', 'exists', 'getMany'] as const)[i % 4]
      writeFileSync(reader.pathOf(key), bad)
      const before = errors.length
      const got = op === 'getMany' ? (await store.getMany([key])).get(key) : op === 'exists' ? await store.exists(key) : await store[op](key)
      expect(got === undefined || got === false).toBe(true)
      expect(errors.length - before).toBe(1)
      expect(errors[errors.length - 1].error).toBeInstanceOf(WireFormatError)
      expect(errors[errors.length - 1].info.key).toBe(key)
      expect(() => statSync(reader.pathOf(key))).toThrow(/ENOENT/)
    }
    expect(kinds).toEqual({ random: 334, truncated: 333, flipped: 333 })
    expect(readdirSync(store.dir)).toEqual([])
  })

  test("with onError 'raise' a corrupt file rejects with WireFormatError and is still removed", async () => {
    const dir = dirs.make()
    const store = new LocalFileCache(dir, { onError: 'raise' })
    await store.set('k', 1, 0)
    writeFileSync(store.pathOf('k'), 'acf1 but nothing else')
    await expect(store.get('k')).rejects.toBeInstanceOf(WireFormatError)
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('failing filesystem', () => {
  test("the directory replaced by a file: 'silent' degrades and reports every operation", async () => {
    const metrics = new InMemoryMetrics()
    const { store, errors, dir } = storeWithErrors()
    const counted = new LocalFileCache(dir, { metrics, logger: null })
    await store.set('k', 'v', 0)
    rmSync(dir, { recursive: true })
    writeFileSync(dir, 'now a file')

    expect(await store.get('k')).toBeUndefined()
    await store.set('k', 'w', 0)
    await store.setMany({ a: 1 }, 0)
    expect(await store.setIfNotExists('n', 1, 0)).toBe(false)
    expect(await store.exists('k')).toBe(false)
    await store.delete('k')
    await store.clear()
    expect(await store.cleanupExpired()).toBe(0)
    expect(errors.map((e) => [e.info.operation, (e.error as NodeJS.ErrnoException).code])).toEqual([
      ['get', 'ENOTDIR'], ['set', 'ENOTDIR'], ['setMany', 'ENOTDIR'], ['setIfNotExists', 'ENOTDIR'], ['exists', 'ENOTDIR'],
      ['delete', 'ENOTDIR'], ['clear', 'ENOTDIR'], ['cleanupExpired', 'ENOTDIR'],
    ])
    expect(errors[0].info).toEqual({ cacheName: 'LocalFileCache', key: 'k', operation: 'get' })

    expect(await counted.get('k')).toBeUndefined()
    await counted.set('k', 1, 0)
    // (The error type label is the class name; fs errors made in jest's host realm may read as 'Object'.)
    const counts = Object.fromEntries(Object.entries(metrics.getStats().errors).map(([op, byType]) => [op, Object.values(byType).reduce((a, b) => a + b)]))
    expect(counts).toEqual({ 'LocalFileCache.get': 1, 'LocalFileCache.set': 1 })
  })

  test("with onError 'raise' the filesystem error reaches the caller", async () => {
    const dir = dirs.make()
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'file'), 'x')
    const store = new LocalFileCache(join(dir, 'file', 'cache'), { onError: 'raise' })
    await expect(store.set('k', 1, 0)).rejects.toMatchObject({ code: 'ENOTDIR' })
    await expect(store.get('k')).rejects.toMatchObject({ code: 'ENOTDIR' })
    await expect(store.setIfNotExists('k', 1, 0)).rejects.toMatchObject({ code: 'ENOTDIR' })
    await expect(store.clear()).rejects.toMatchObject({ code: 'ENOTDIR' })
    expect(readdirSync(dir)).toEqual(['file'])
  })

  test('a failed rename leaves no temp file behind', async () => {
    const { store, errors, dir } = storeWithErrors()
    mkdirSync(store.pathOf('k'), { recursive: true }) // a directory where the entry file should go
    await store.set('k', 1, 0)
    expect(errors.map((e) => (e.error as NodeJS.ErrnoException).code)).toEqual(['EISDIR'])
    expect(readdirSync(dir)).toEqual(['k-k.acache'])
  })

  test('the directory is created when missing, and re-created when removed', async () => {
    const { store, errors, dir } = storeWithErrors({}, join(dirs.make(), 'a', 'b'))
    expect(await store.get('k')).toBeUndefined()
    await store.set('k', 1, 0)
    expect(await store.get('k')).toBe(1)
    rmSync(dir, { recursive: true })
    expect(await store.get('k')).toBeUndefined()
    await store.clear()
    await store.set('k', 2, 0)
    expect(await store.get('k')).toBe(2)
    expect(errors).toEqual([])
  })
})

describe('usage errors', () => {
  test('bad options throw a TypeError naming the option', () => {
    const dir = dirs.make()
    expect(() => new LocalFileCache('')).toThrow(/"dir" must be a non-empty string/)
    expect(() => new LocalFileCache(42 as unknown as string)).toThrow(/"dir"/)
    expect(() => new LocalFileCache(undefined as unknown as string)).toThrow(/"dir"/)
    expect(() => new LocalFileCache('a\0b')).toThrow(/"dir"/)
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ compres: true }, /unknown option "compres"/],
      [{ compress: 'yes' }, /"compress"/],
      [{ dedupeWrites: 1 }, /"dedupeWrites"/],
      [{ concurrency: 0 }, /"concurrency"/],
      [{ concurrency: 1.5 }, /"concurrency"/],
      [{ serializer: 'yaml' }, /serializer/],
      [{ onError: 'loud' }, /"onError"/],
      [{ name: '' }, /"name"/],
      [{ logger: 'console' }, /"logger"/],
    ]
    for (const [options, message] of bad) {
      expect(() => new LocalFileCache(dir, options as LocalFileCacheOptions)).toThrow(TypeError)
      expect(() => new LocalFileCache(dir, options as LocalFileCacheOptions)).toThrow(message)
    }
  })

  test('bad values and ttls throw, naming the key, and write nothing', async () => {
    const { store, dir } = storeWithErrors()
    await expect(store.set('u', undefined, 0)).rejects.toThrow(/cannot store undefined \(key "u"\)/)
    await expect(store.set('m', new Map(), 0)).rejects.toThrow(SerializationError)
    await expect(store.set('m', new Map(), 0)).rejects.toThrow(/key "m".*Map/)
    await expect(store.set('k', 1, -1)).rejects.toThrow(/ttl/)
    await expect(store.setMany({ a: 1, b: undefined }, 0)).rejects.toThrow(/key "b"/)
    await expect(store.setEntry('e', { value: 1, createdAt: NaN, freshUntil: 1 })).rejects.toThrow(TypeError)
    await expect(store.get(7 as unknown as string)).rejects.toThrow(/key must be a string/)
    expect(await store.get('a')).toBeUndefined()
    expect(() => readdirSync(dir)).toThrow(/ENOENT/)
  })
})

describe('with the engine', () => {
  test('cache() reads through the files, and another store instance on the directory sees the entries', async () => {
    const dir = dirs.make()
    let calls = 0
    const square = cache(60, { key: 'sq:{n}', store: new LocalFileCache(dir) })(async (n: number) => {
      calls++
      return n * n
    })
    expect(await square(4)).toBe(16)
    expect(await square(4)).toBe(16)
    expect(calls).toBe(1)
    expect(await new LocalFileCache(dir).get('sq:4')).toBe(16)
    expect(readdirSync(dir)).toEqual(['k-sq%3a4.acache'])
  })

  test('HybridCache with an InMemCache L1 in front of the files', async () => {
    const dir = dirs.make()
    const files = new LocalFileCache(dir)
    const store = new HybridCache({ l1Cache: new InMemCache({ maxSize: 100 }), l1Ttl: 30, l2Cache: files })
    let calls = 0
    const load = cache(300, { key: 'user:{id}', store })(async (id: number) => {
      calls++
      return { id }
    })
    expect(await load(1)).toEqual({ id: 1 })
    expect(await files.get('user:1')).toEqual({ id: 1 })
    // A fresh process: empty L1, same directory.
    const restarted = cache(300, { key: 'user:{id}', store: new HybridCache({ l2Cache: new LocalFileCache(dir) }) })(async (id: number) => {
      calls++
      return { id }
    })
    expect(await restarted(1)).toEqual({ id: 1 })
    expect(calls).toBe(1)
  })
})
