import { cache, decodeEntry, serializers, type ErrorInfo } from '@acache/core'
import { Storage } from '@google-cloud/storage'
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { GCSCache, GCS_METADATA, HASHED_NAME_MARKER, type GCSCacheOptions } from '../src/index.js'
import { GcsFixture } from './support/gcs-fixture.js'
import { clientFor, uniquePrefix } from './support/storage-client.js'

const BUCKET = 'cache-bucket'
const VECTOR_HEX = '41d954fc4f00000041d954fc400000007b2261223a317d'
let gcs: GcsFixture
let storage: Storage

beforeAll(async () => {
  gcs = await GcsFixture.start({ buckets: [BUCKET] })
  storage = clientFor(gcs)
})
afterEach(async () => {
  gcs.beforeRequest = undefined
  gcs.failWith(undefined)
  gcs.hang(false)
  await gcs.restart()
})
afterAll(async () => {
  await gcs.close()
})

interface Reported {
  error: unknown
  info: ErrorInfo
}

function makeStore(options: Partial<GCSCacheOptions> = {}): { store: GCSCache; reported: Reported[] } {
  const reported: Reported[] = []
  const store = new GCSCache({
    bucket: BUCKET,
    prefix: uniquePrefix('t'),
    storage,
    onError: (error, info) => reported.push({ error, info }),
    ...options,
  })
  return { store, reported }
}

function objectOf(store: GCSCache, key: string) {
  return gcs.object(BUCKET, store.objectName(key))
}

/** Moves an object's physical expiry into the past, as if its TTL had run out. */
async function expireNow(store: GCSCache, key: string): Promise<void> {
  const file = storage.bucket(BUCKET).file(store.objectName(key))
  await file.setMetadata({ metadata: { [GCS_METADATA.expiresAt]: String(Date.now() / 1000 - 1) } })
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

describe('options', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['missing bucket', {}, /"bucket"/],
    ['empty bucket', { bucket: '' }, /"bucket"/],
    ['prefix not a string', { bucket: 'b', prefix: 1 }, /"prefix"/],
    ['storage not a client', { bucket: 'b', storage: {} }, /"storage"/],
    ['compress not boolean', { bucket: 'b', compress: 'yes' }, /"compress"/],
    ['dedupeWrites not boolean', { bucket: 'b', dedupeWrites: 1 }, /"dedupeWrites"/],
    ['timeout negative', { bucket: 'b', timeout: -1 }, /"timeout"/],
    ['timeout zero', { bucket: 'b', timeout: 0 }, /"timeout"/],
    ['timeout bad unit', { bucket: 'b', timeout: '5 parsecs' }, /"timeout"/],
    ['concurrency 0', { bucket: 'b', concurrency: 0 }, /"concurrency"/],
    ['serializer alias', { bucket: 'b', serializer: 'yaml' }, /serializer/],
    ['onError', { bucket: 'b', onError: 'loud' }, /"onError"/],
    ['unknown option', { bucket: 'b', ttl: 5 }, /unknown option "ttl"/],
  ])('%s → TypeError naming the option', (_, options, message) => {
    expect(() => new GCSCache({ storage, ...options } as unknown as GCSCacheOptions)).toThrow(TypeError)
    expect(() => new GCSCache({ storage, ...options } as unknown as GCSCacheOptions)).toThrow(message)
  })

  test('defaults', () => {
    const store = new GCSCache({ bucket: 'b', storage })
    expect(store.prefix).toBe('')
    expect(store.timeoutMs).toBe(5000)
    expect(store.concurrency).toBe(16)
    expect(store.compress).toBe(false)
    expect(store.dedupeWrites).toBe(false)
    expect(new GCSCache({ bucket: 'b', storage, timeout: '250ms' }).timeoutMs).toBe(250)
  })

  test('an unserializable value or undefined throws naming the key, whatever onError says, and writes nothing', async () => {
    const { store, reported } = makeStore()
    await expect(store.set('bad', new Map(), 60)).rejects.toThrow(/key "bad".*Map/)
    await expect(store.set('undef', undefined, 60)).rejects.toThrow(TypeError)
    await expect(store.setMany({ ok: 1, broken: new Date() }, 60)).rejects.toThrow(/key "broken"/)
    expect(objectOf(store, 'ok')).toBeUndefined()
    expect(objectOf(store, 'bad')).toBeUndefined()
    expect(reported).toEqual([])
  })
})

describe('object layout', () => {
  test('the object body is the wire-format test vector, byte for byte', async () => {
    const { store } = makeStore()
    await store.setEntry('vector', { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }, 3600)
    const [raw] = await storage.bucket(BUCKET).file(store.objectName('vector')).download()
    expect(raw.toString('hex')).toBe(VECTOR_HEX)
    const [meta] = await storage.bucket(BUCKET).file(store.objectName('vector')).getMetadata()
    expect(meta.contentType).toBe('application/octet-stream')
    expect(meta.metadata![GCS_METADATA.valueSha256]).toBe(createHash('sha256').update('{"a":1}').digest('base64'))
    expect(Number(meta.metadata![GCS_METADATA.expiresAt])).toBeCloseTo(Date.now() / 1000 + 3600, -1)
    expect(meta.metadata![GCS_METADATA.compression]).toBeUndefined()
    expect(await store.getEntry('vector')).toEqual({ value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 })
  })

  test('a vector written by another writer (plain bytes, no acache metadata) reads back', async () => {
    const { store } = makeStore()
    await storage.bucket(BUCKET).file(store.objectName('foreign')).save(Buffer.from(VECTOR_HEX, 'hex'), { resumable: false })
    expect(await store.getEntry('foreign')).toEqual({ value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 })
  })

  test('compress: the body is gzip of the vector, marked in metadata', async () => {
    const { store } = makeStore({ compress: true })
    await store.setEntry('vector', { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }, 3600)
    const object = objectOf(store, 'vector')!
    expect(object.metadata[GCS_METADATA.compression]).toBe('gzip')
    expect(gunzipSync(object.data).toString('hex')).toBe(VECTOR_HEX)
    expect(await store.get('vector')).toEqual({ a: 1 })
  })

  test('ttl 0 writes no expiry; setEntry without ttl expires at freshUntil', async () => {
    const { store } = makeStore()
    await store.set('forever', 1, 0)
    expect(objectOf(store, 'forever')!.metadata[GCS_METADATA.expiresAt]).toBeUndefined()
    await store.setEntry('e', { value: 1, createdAt: 100, freshUntil: 4102444800.25 })
    expect(objectOf(store, 'e')!.metadata[GCS_METADATA.expiresAt]).toBe('4102444800.25')
  })

  test('names: prefix + key; longer than 1024 bytes or unrepresentable → prefix + ~sha256~hex', async () => {
    const { store } = makeStore()
    const prefix = store.prefix
    const fits = 'k'.repeat(1024 - Buffer.byteLength(prefix))
    const long = 'é'.repeat(600)
    expect(store.objectName('user:1')).toBe(prefix + 'user:1')
    expect(store.objectName(fits)).toBe(prefix + fits)
    expect(store.objectName(fits + 'k')).toMatch(new RegExp(`^${prefix}~sha256~[0-9a-f]{64}$`))
    expect(store.objectName(long)).toMatch(/~sha256~[0-9a-f]{64}$/)
    expect(store.objectName('a\nb')).toMatch(/~sha256~/)
    expect(store.objectName('\uD800')).not.toBe(store.objectName('\uDBFF'))
    const marker = `${HASHED_NAME_MARKER}${'0'.repeat(64)}`
    expect(store.objectName(marker)).not.toBe(prefix + marker)
    const keys = [fits, fits + 'k', long, 'a\nb', 'a\rb', '\uD800', '\uDBFF', marker]
    await store.setMany(Object.fromEntries(keys.map((k, i) => [k, i])), 60)
    const got = await store.getMany(keys)
    expect(keys.map((k) => got.get(k))).toEqual(keys.map((_, i) => i))
  })
})

describe('expiry', () => {
  test('an expired object is a miss everywhere and is deleted on read', async () => {
    const { store, reported } = makeStore()
    await store.set('k', 'v', 60)
    await expireNow(store, 'k')
    expect(await store.exists('k')).toBe(false)
    expect(objectOf(store, 'k')).toBeUndefined()
    await store.set('k', 'v', 60)
    await expireNow(store, 'k')
    expect(await store.get('k')).toBeUndefined()
    expect(objectOf(store, 'k')).toBeUndefined()
    expect(reported).toEqual([])
  })

  test('the expired-object delete is conditional: a TTL refreshed in between survives', async () => {
    const { store } = makeStore()
    await store.set('k', 'v', 60)
    await expireNow(store, 'k')
    gcs.beforeRequest = async (request) => {
      if (request.kind === 'delete') {
        gcs.beforeRequest = undefined
        const object = gcs.object(BUCKET, store.objectName('k'))!
        object.metadata[GCS_METADATA.expiresAt] = String(Date.now() / 1000 + 60)
        object.metageneration += 1 // what a concurrent metadata refresh does
      }
    }
    expect(await store.get('k')).toBeUndefined() // it was expired when read
    expect(await store.get('k')).toBe('v') // and the refreshed object was not deleted
  })
})

describe('setIfNotExists', () => {
  test('uses ifGenerationMatch=0 and fails (value kept) over a live object', async () => {
    const { store } = makeStore()
    gcs.resetStats()
    expect(await store.setIfNotExists('k', 'first', 60)).toBe(true)
    expect(gcs.requests.find((r) => r.kind === 'upload')!.query.ifGenerationMatch).toBe('0')
    expect(await store.setIfNotExists('k', 'second', 60)).toBe(false)
    expect(await store.get('k')).toBe('first')
  })

  test('succeeds over an expired object', async () => {
    const { store } = makeStore()
    await store.set('k', 'old', 60)
    await expireNow(store, 'k')
    expect(await store.setIfNotExists('k', 'new', 60)).toBe(true)
    expect(await store.get('k')).toBe('new')
  })

  test('of 20 concurrent callers over an expired object exactly one wins, and its value is stored', async () => {
    const { store } = makeStore()
    await store.set('k', 'old', 60)
    await expireNow(store, 'k')
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfNotExists('k', `caller-${i}`, 60)))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await store.get('k')).toBe(`caller-${results.indexOf(true)}`)
  })

  test('of 20 concurrent callers on an absent key (two store instances) exactly one wins', async () => {
    const { store } = makeStore()
    const twin = new GCSCache({ bucket: BUCKET, prefix: store.prefix, storage: clientFor(gcs) })
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? twin : store).setIfNotExists('race', i, 60)))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await twin.get('race')).toBe(results.indexOf(true))
  })

  test('an expired object refreshed between the check and the replace is not overwritten', async () => {
    const { store } = makeStore()
    await store.set('k', 'refreshed', 60)
    await expireNow(store, 'k')
    gcs.beforeRequest = async (request) => {
      // The conditional replace of the expired generation: a concurrent TTL refresh lands first.
      if (request.kind === 'upload' && request.query.ifGenerationMatch !== '0') {
        gcs.beforeRequest = undefined
        const object = gcs.object(BUCKET, store.objectName('k'))!
        object.metadata[GCS_METADATA.expiresAt] = String(Date.now() / 1000 + 60)
        object.metageneration += 1
      }
    }
    expect(await store.setIfNotExists('k', 'intruder', 60)).toBe(false)
    expect(await store.get('k')).toBe('refreshed')
  })
})

describe('dedupeWrites', () => {
  test('an identical value updates metadata only: same generation, new expiry and timestamps, no upload', async () => {
    const { store } = makeStore({ dedupeWrites: true })
    await store.set('k', { big: 'x'.repeat(1000) }, 60)
    const first = { ...objectOf(store, 'k')! }
    const firstEntry = (await store.getEntry('k'))!
    await new Promise((r) => setTimeout(r, 20))
    gcs.resetStats()
    await store.set('k', { big: 'x'.repeat(1000) }, 600)
    expect(gcs.requests.map((r) => r.kind)).toEqual(['metadata', 'patch'])
    const second = objectOf(store, 'k')!
    expect(second.generation).toBe(first.generation)
    expect(second.metageneration).toBe(first.metageneration + 1)
    expect(Number(second.metadata[GCS_METADATA.expiresAt])).toBeGreaterThan(Number(first.metadata[GCS_METADATA.expiresAt]) + 500)
    const entry = (await store.getEntry('k'))!
    expect(entry.createdAt).toBeGreaterThan(firstEntry.createdAt)
    expect(entry.freshUntil).toBeCloseTo(entry.createdAt + 600, 6)
    // The body was not rewritten: its header still holds the first write's timestamps.
    expect(decodeEntry(second.data, serializers.json).createdAt).toBe(firstEntry.createdAt)
    // A different value is uploaded: a new generation.
    await store.set('k', { big: 'y' }, 60)
    expect(objectOf(store, 'k')!.generation).not.toBe(first.generation)
    expect(await store.get('k')).toEqual({ big: 'y' })
  })

  test('without dedupeWrites an identical value is uploaded again (new generation)', async () => {
    const { store } = makeStore()
    await store.set('k', 1, 60)
    const generation = objectOf(store, 'k')!.generation
    await store.set('k', 1, 60)
    expect(objectOf(store, 'k')!.generation).not.toBe(generation)
  })

  test('an object changed between the compare and the metadata update is uploaded instead', async () => {
    const { store } = makeStore({ dedupeWrites: true })
    await store.set('k', 'same', 60)
    const generation = objectOf(store, 'k')!.generation
    gcs.beforeRequest = async (request) => {
      if (request.kind === 'patch') {
        gcs.beforeRequest = undefined
        gcs.object(BUCKET, store.objectName('k'))!.metageneration += 1 // someone else's change
      }
    }
    await store.set('k', 'same', 300)
    expect(objectOf(store, 'k')!.generation).not.toBe(generation)
    expect((await store.getEntry('k'))!.freshUntil - Date.now() / 1000).toBeGreaterThan(250)
  })
})

describe('getMany / setMany / clear', () => {
  test('bounded concurrency: at most `concurrency` requests in flight', async () => {
    const { store } = makeStore({ concurrency: 3 })
    const items = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]))
    // Each request takes 15 ms at the server, so concurrent requests overlap there.
    gcs.beforeRequest = () => new Promise((resolve) => setTimeout(resolve, 15))
    gcs.resetStats()
    await store.setMany(items, 60)
    expect(gcs.maxInFlight).toBeLessThanOrEqual(3)
    expect(gcs.maxInFlight).toBeGreaterThanOrEqual(2)
    gcs.resetStats()
    const got = await store.getMany([...Object.keys(items), 'missing'])
    expect(gcs.maxInFlight).toBeLessThanOrEqual(3)
    expect(Object.fromEntries(got)).toEqual(items)
  })

  test('clear() pages through > 1000 objects (1010) and deletes nothing outside the prefix', async () => {
    const store = new GCSCache({ bucket: BUCKET, prefix: 'clear/a/', storage, onError: 'raise', concurrency: 32 })
    const many = Object.fromEntries(Array.from({ length: 1010 }, (_, i) => [`k${String(i).padStart(4, '0')}`, i]))
    await store.setMany(many, 0)
    const bucket = storage.bucket(BUCKET)
    const foreign = ['clear/a', 'clear/ab/x', 'clear/a-/x', 'clear/b/k0001', 'clear/', 'other/clear/a/k0001']
    for (const name of foreign) await bucket.file(name).save('foreign', { resumable: false })
    expect(gcs.names(BUCKET).filter((n) => n.startsWith('clear/a/'))).toHaveLength(1010)
    gcs.resetStats()
    await store.clear()
    expect(gcs.requests.filter((r) => r.kind === 'list').length).toBeGreaterThanOrEqual(2)
    expect(gcs.names(BUCKET).filter((n) => n.startsWith('clear/a/'))).toEqual([])
    for (const name of foreign) expect(gcs.object(BUCKET, name)?.data.toString()).toBe('foreign')
    await store.set('after', 1, 60)
    expect(await store.get('after')).toBe(1)
  }, 60_000)

  test('clear() with an empty prefix is a usage error through onError, deleting nothing', async () => {
    await storage.bucket(BUCKET).file('keep-me').save('x', { resumable: false })
    const reported: Reported[] = []
    const silent = new GCSCache({ bucket: BUCKET, storage, onError: (error, info) => reported.push({ error, info }) })
    await silent.clear()
    expect(reported).toHaveLength(1)
    expect(reported[0].error).toBeInstanceOf(TypeError)
    expect(reported[0].info.operation).toBe('clear')
    const raising = new GCSCache({ bucket: BUCKET, storage, onError: 'raise' })
    await expect(raising.clear()).rejects.toThrow(/non-empty "prefix"/)
    expect(gcs.object(BUCKET, 'keep-me')).toBeDefined()
  })
})

describe('faults', () => {
  test('server stopped mid-run: misses and skipped writes, each reported; recovers on restart', async () => {
    const { store, reported } = makeStore()
    await store.set('k', 'v', 60)
    await gcs.stop()
    const started = Date.now()
    expect(await store.get('k')).toBeUndefined()
    expect(await store.getEntry('k')).toBeUndefined()
    expect(await store.exists('k')).toBe(false)
    expect(await store.set('k2', 'v', 60)).toBeUndefined()
    expect(await store.setIfNotExists('k3', 'v', 60)).toBe(false)
    expect(await store.getMany(['k', 'k2'])).toEqual(new Map())
    await store.setMany({ a: 1 }, 60)
    await store.delete('k')
    await store.clear()
    expect(Date.now() - started).toBeLessThan(5000)
    expect(reported.map((r) => r.info.operation)).toEqual([
      'get', 'getEntry', 'exists', 'set', 'setIfNotExists', 'getMany', 'getMany', 'setMany', 'delete', 'clear',
    ])
    for (const { error } of reported) expect(String((error as Error).message)).toMatch(/ECONNREFUSED/)
    await gcs.restart()
    expect(await store.get('k')).toBe('v')
  })

  test("onError 'raise' rethrows", async () => {
    const { store } = makeStore({ onError: 'raise' })
    await store.set('k', 'v', 60)
    await gcs.stop()
    await expect(store.get('k')).rejects.toThrow(/ECONNREFUSED/)
    await expect(store.set('k', 'v', 60)).rejects.toThrow(/ECONNREFUSED/)
    await expect(store.getMany(['k'])).rejects.toThrow(/ECONNREFUSED/)
  })

  test('500s: a miss plus a reported error, one request each (no client retries)', async () => {
    const { store, reported } = makeStore()
    await store.set('k', 'v', 60)
    gcs.failWith(500)
    gcs.resetStats()
    expect(await store.get('k')).toBeUndefined()
    await store.set('k', 'w', 60)
    expect(gcs.requests).toHaveLength(2)
    expect(reported.map((r) => [r.info.operation, (r.error as { code?: number }).code])).toEqual([
      ['get', 500],
      ['set', 500],
    ])
    const raising = new GCSCache({ bucket: BUCKET, prefix: store.prefix, storage, onError: 'raise' })
    await expect(raising.get('k')).rejects.toMatchObject({ code: 500 })
    gcs.failWith(undefined)
    expect(await store.get('k')).toBe('v')
  })

  test('a closed port answers within the deadline', async () => {
    const port = await freePort()
    const reported: Reported[] = []
    const store = new GCSCache({
      bucket: BUCKET,
      prefix: 'closed/',
      storage: clientFor({ endpoint: `http://127.0.0.1:${port}` }),
      timeout: 1,
      onError: (error, info) => reported.push({ error, info }),
    })
    const started = Date.now()
    expect(await store.get('k')).toBeUndefined()
    expect(await store.setIfNotExists('k', 1, 60)).toBe(false)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(reported).toHaveLength(2)
  })

  test('a hung server costs the deadline, even for a client that retries by itself', async () => {
    const { store, reported } = makeStore({ timeout: 0.3 })
    gcs.hang()
    let started = Date.now()
    expect(await store.get('k')).toBeUndefined()
    let elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(250)
    expect(elapsed).toBeLessThan(3000)
    expect(reported[0].error).toMatchObject({ name: 'TimeoutError' })
    gcs.hang(false)
    // A client with its default retry policy keeps retrying 503s; the deadline still bounds the call.
    const retrying = new Storage({ apiEndpoint: gcs.endpoint, projectId: 'acache-test' })
    const bounded = new GCSCache({ bucket: BUCKET, prefix: store.prefix, storage: retrying, timeout: 0.5, onError: 'raise' })
    gcs.failWith(503)
    started = Date.now()
    await expect(bounded.get('k')).rejects.toMatchObject({ name: 'TimeoutError' })
    elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(450)
    expect(elapsed).toBeLessThan(3000)
  })

  test('1,000 fuzzed corrupt objects: each a miss plus a reported WireFormatError, never a crash', async () => {
    const { store, reported } = makeStore({ concurrency: 32 })
    let seed = 0x2f6b3a1
    const random = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
      return seed / 2 ** 32
    }
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)))
    const header = (): Buffer => {
      const h = Buffer.alloc(16)
      h.writeDoubleBE(Date.now() / 1000 + 3600, 0)
      h.writeDoubleBE(Date.now() / 1000, 8)
      return h
    }
    const valid = Buffer.concat([header(), Buffer.from('{"a":[1,2,3]}')])
    const corruptions: Array<() => { body: Buffer; metadata?: Record<string, string> }> = [
      () => ({ body: bytes(Math.floor(random() * 16)) }), // shorter than the header
      () => {
        const payload = bytes(1 + Math.floor(random() * 40))
        payload[Math.floor(random() * payload.length)] = 0xff // never valid UTF-8
        return { body: Buffer.concat([header(), payload]) }
      },
      () => {
        const body = Buffer.from(valid)
        body.writeDoubleBE(NaN, random() < 0.5 ? 0 : 8)
        return { body }
      },
      () => ({ body: valid.subarray(0, 16 + Math.floor(random() * (valid.length - 17))) }), // truncated JSON
      () => ({ body: bytes(20 + Math.floor(random() * 40)), metadata: { [GCS_METADATA.compression]: 'gzip' } }),
      () => ({ body: valid, metadata: { [GCS_METADATA.compression]: 'br' } }),
      () => ({ body: valid, metadata: { [GCS_METADATA.expiresAt]: random() < 0.5 ? 'soon' : '' } }),
      () => ({ body: valid, metadata: { [GCS_METADATA.freshUntil]: 'NaN' } }),
      () => ({ body: valid, metadata: { [GCS_METADATA.createdAt]: 'Infinity' } }),
    ]
    const keys = Array.from({ length: 1000 }, (_, i) => `fuzz${i}`)
    const bucket = storage.bucket(BUCKET)
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((key, j) => {
          const { body, metadata } = corruptions[(i + j) % corruptions.length]()
          return bucket.file(store.objectName(key)).save(body, { resumable: false, metadata: { metadata } })
        }),
      )
    }
    expect(await store.getMany(keys)).toEqual(new Map())
    expect(reported).toHaveLength(1000)
    expect(new Set(reported.map((r) => (r.error as Error).name))).toEqual(new Set(['WireFormatError']))
    expect(new Set(reported.map((r) => r.info.key))).toEqual(new Set(keys))
    reported.length = 0
    for (const key of keys.slice(0, 18)) expect(await store.get(key)).toBeUndefined()
    expect(reported).toHaveLength(18)
  }, 60_000)
})

describe('with cache()', () => {
  test('the README example: one loader call, then hits from GCS across store instances', async () => {
    const prefix = uniquePrefix('readme')
    let calls = 0
    const store = new GCSCache({ bucket: BUCKET, prefix, storage })
    const getPrice = cache(60, { stale: 30, key: 'price:{symbol}', store })(async (symbol: string) => {
      calls += 1
      return { symbol, price: 42 }
    })
    expect(await getPrice('ACME')).toEqual({ symbol: 'ACME', price: 42 })
    expect(await getPrice('ACME')).toEqual({ symbol: 'ACME', price: 42 })
    expect(calls).toBe(1)
    const elsewhere = new GCSCache({ bucket: BUCKET, prefix, storage: clientFor(gcs) })
    expect(await elsewhere.get('price:ACME')).toEqual({ symbol: 'ACME', price: 42 })
  })
})
