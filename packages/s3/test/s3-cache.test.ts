// S3Cache's own behaviour against a real s3rver: object layout, wire format, pagination,
// conditional writes, dedupeWrites, key mapping, options.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { gunzipSync } from 'node:zlib'
import type { ErrorInfo } from '@acache/core'
import { HASHED_KEY_MARKER, S3Cache, type S3CacheOptions } from '../src/index.js'
import { recordCommands } from './support/command-log.js'
import { startS3rver, type S3rverHandle } from './support/s3rver.js'

const VECTOR_HEX = '41d954fc4f00000041d954fc400000007b2261223a317d'
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let server: S3rverHandle
let client: S3Client
let run = 0
beforeAll(async () => {
  server = await startS3rver()
  client = server.client()
})
afterAll(async () => {
  await server?.stop()
})

function store(options: Partial<S3CacheOptions> = {}): S3Cache {
  return new S3Cache({ bucket: server.bucket, prefix: `own-${++run}/`, client, onError: 'raise', ...options })
}

async function rawBody(name: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: name }))
  return Buffer.from(await res.Body!.transformToByteArray())
}

async function head(name: string) {
  return client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: name }))
}

async function listAll(prefix: string): Promise<string[]> {
  const names: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix, ContinuationToken: token }))
    for (const o of page.Contents ?? []) names.push(o.Key!)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return names
}

async function putRaw(name: string, body: Uint8Array | string, metadata?: Record<string, string>): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: name, Body: body, Metadata: metadata }))
}

describe('object layout and wire format', () => {
  test('the raw object body is the §5 test vector, with no metadata for an entry without expiry', async () => {
    const s = store()
    await s.setEntry('vector', { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }, 0)
    expect((await rawBody(`${s.prefix}vector`)).toString('hex')).toBe(VECTOR_HEX)
    expect((await head(`${s.prefix}vector`)).Metadata).toEqual({})
  })

  test('an object written by another client in the wire format (the Python library) is read', async () => {
    const s = store()
    await putRaw(`${s.prefix}from-python`, Buffer.from(VECTOR_HEX, 'hex'))
    expect(await s.getEntry('from-python')).toEqual({ value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 })
  })

  test('physical expiry is stored as acache-expires-at (epoch seconds); ttl 0 stores none', async () => {
    const s = store()
    const before = Date.now() / 1000
    await s.set('ttl', 'v', 120)
    await s.set('forever', 'v', 0)
    const expiresAt = Number((await head(`${s.prefix}ttl`)).Metadata!['acache-expires-at'])
    expect(expiresAt).toBeGreaterThanOrEqual(before + 120)
    expect(expiresAt).toBeLessThan(before + 125)
    expect((await head(`${s.prefix}forever`)).Metadata!['acache-expires-at']).toBeUndefined()
  })

  test('compress gzips the wire-format body and says so in the metadata', async () => {
    const s = store({ compress: true })
    await s.setEntry('vector', { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }, 0)
    const body = await rawBody(`${s.prefix}vector`)
    expect(body.subarray(0, 2).toString('hex')).toBe('1f8b')
    expect(gunzipSync(body).toString('hex')).toBe(VECTOR_HEX)
    expect((await head(`${s.prefix}vector`)).Metadata).toEqual({ 'acache-compression': 'gzip' })
    const big = 'x'.repeat(100_000)
    await s.set('big', big, 0)
    expect((await rawBody(`${s.prefix}big`)).length).toBeLessThan(1000)
    expect(await s.get('big')).toBe(big)
  })

  test('an expired object is a miss and is deleted when read', async () => {
    const s = store()
    await s.set('short', 'v', 0.2)
    await sleep(400)
    expect(await listAll(`${s.prefix}short`)).toEqual([`${s.prefix}short`])
    expect(await s.get('short')).toBeUndefined()
    expect(await listAll(`${s.prefix}short`)).toEqual([])
  })

  test('cleanupExpired deletes expired objects under the prefix and nothing else', async () => {
    const s = store()
    await s.setMany({ e1: 1, e2: 2, e3: 3 }, 0.2)
    await s.setMany({ k1: 1, k2: 2 }, 0)
    await putRaw(`${s.prefix}foreign`, 'not ours')
    await sleep(400)
    expect(await s.cleanupExpired()).toBe(3)
    expect((await listAll(s.prefix)).sort()).toEqual([`${s.prefix}foreign`, `${s.prefix}k1`, `${s.prefix}k2`])
    expect(await s.cleanupExpired()).toBe(0)
  })
})

describe('object names', () => {
  test('a key is stored under prefix + key', async () => {
    const s = store()
    await s.set('user:1/profile ü', 1, 0)
    expect(await listAll(s.prefix)).toEqual([`${s.prefix}user:1/profile ü`])
  })

  test('keys longer than 1024 UTF-8 bytes are stored hashed, and stay distinct', async () => {
    const s = store()
    const a = 'é'.repeat(600) + 'a' // 1201 bytes
    const b = 'é'.repeat(600) + 'b'
    await s.set(a, 'A', 0)
    await s.set(b, 'B', 0)
    expect(await s.get(a)).toBe('A')
    expect(await s.get(b)).toBe('B')
    const names = await listAll(s.prefix)
    expect(names).toHaveLength(2)
    for (const name of names) expect(name).toMatch(new RegExp(`^${s.prefix}${HASHED_KEY_MARKER}[0-9a-f]{64}$`))
    // Exactly at the limit: still verbatim.
    const limit = 'k'.repeat(1024 - Buffer.byteLength(s.prefix))
    expect(s.objectName(limit)).toBe(s.prefix + limit)
    expect(s.objectName(limit + 'k')).not.toBe(s.prefix + limit + 'k')
  })

  test('dot and empty segments, control characters, lone surrogates and the marker itself are hashed', () => {
    const s = store()
    for (const key of ['..', '../x', 'a/./b', 'x/', 'a//b', 'tab\there', '\ud800', `${HASHED_KEY_MARKER}abc`]) {
      expect(s.objectName(key).startsWith(s.prefix + HASHED_KEY_MARKER)).toBe(true)
    }
    expect(s.objectName('\ud800')).not.toBe(s.objectName('\udbff'))
    expect(s.objectName('a.b/..c')).toBe(`${s.prefix}a.b/..c`)
  })
})

describe('clear()', () => {
  test('deletes > 1000 objects under the prefix across pages, and nothing outside it', async () => {
    const prefix = `app-${++run}/`
    const sibling = `app-${run}2/`
    const s = new S3Cache({ bucket: server.bucket, prefix, client, onError: 'raise', concurrency: 32 })
    const items = new Map(Array.from({ length: 1050 }, (_, i) => [`k${i}`, i]))
    await s.setMany(items, 0)
    const outside = [`${sibling}k1`, `${sibling}k2`, `app-${run}`, `app-${run}/`.toUpperCase() + 'k1', `ap-${run}/k1`, 'unrelated/x']
    for (const name of outside) await putRaw(name, 'keep')
    expect(await listAll(prefix)).toHaveLength(1050)

    const log = recordCommands(client)
    try {
      await s.clear()
    } finally {
      client.middlewareStack.remove('acacheTestCommandLog')
    }
    expect(await listAll(prefix)).toEqual([])
    for (const name of outside) expect((await rawBody(name)).toString()).toBe('keep')
    expect(log.names().filter((n) => n === 'ListObjectsV2Command').length).toBeGreaterThanOrEqual(2)
    expect(log.names().filter((n) => n === 'DeleteObjectsCommand').length).toBeGreaterThanOrEqual(2)
  }, 120_000)

  test('with an empty prefix it is a usage error: reported (silent) or thrown (raise), nothing deleted', async () => {
    const name = `keep-${++run}`
    await putRaw(name, 'keep')
    const reported: Array<[unknown, ErrorInfo]> = []
    const silent = new S3Cache({ bucket: server.bucket, client, onError: (e, info) => reported.push([e, info]) })
    await expect(silent.clear()).resolves.toBeUndefined()
    expect(reported).toHaveLength(1)
    expect(String(reported[0][0])).toMatch(/non-empty prefix/)
    expect(reported[0][1].operation).toBe('clear')
    const raising = new S3Cache({ bucket: server.bucket, client, onError: 'raise' })
    await expect(raising.clear()).rejects.toThrow(/non-empty prefix/)
    expect((await rawBody(name)).toString()).toBe('keep')
  })
})

describe('setIfNotExists', () => {
  test('absent: a PutObject with If-None-Match: *; present: false, value kept, no write', async () => {
    const s = store()
    const log = recordCommands(client)
    try {
      expect(await s.setIfNotExists('k', 'first', 60)).toBe(true)
      const put = log.sent.find((c) => c.name === 'PutObjectCommand')!
      expect(put.headers['if-none-match']).toBe('*')
      log.reset()
      expect(await s.setIfNotExists('k', 'second', 60)).toBe(false)
      expect(log.names()).toEqual(['HeadObjectCommand'])
    } finally {
      client.middlewareStack.remove('acacheTestCommandLog')
    }
    expect(await s.get('k')).toBe('first')
  })

  test('over an expired object: a PutObject with If-Match on the expired ETag, then the new value', async () => {
    const s = store()
    await s.set('k', 'old', 0.2)
    const oldEtag = (await head(`${s.prefix}k`)).ETag
    await sleep(400)
    const log = recordCommands(client)
    try {
      expect(await s.setIfNotExists('k', 'new', 60)).toBe(true)
      const put = log.sent.find((c) => c.name === 'PutObjectCommand')!
      expect(put.headers['if-match']).toBe(oldEtag)
      expect(put.headers['if-none-match']).toBeUndefined()
    } finally {
      client.middlewareStack.remove('acacheTestCommandLog')
    }
    expect(await s.get('k')).toBe('new')
    expect(await s.setIfNotExists('k', 'newer', 60)).toBe(false)
  })

  test('20 concurrent callers on two S3Cache instances over an absent key: exactly one wins, its value is stored', async () => {
    const prefix = `race-${++run}/`
    const a = new S3Cache({ bucket: server.bucket, prefix, client: server.client(), onError: 'raise' })
    const b = new S3Cache({ bucket: server.bucket, prefix, client: server.client(), onError: 'raise' })
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).setIfNotExists('k', { writer: i }, 60)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = results.indexOf(true)
    expect(await a.get('k')).toEqual({ writer: winner })
    expect(await b.get('k')).toEqual({ writer: winner })
  })

  test('20 concurrent callers over an EXPIRED object: exactly one replaces it', async () => {
    const prefix = `race-${++run}/`
    const a = new S3Cache({ bucket: server.bucket, prefix, client: server.client(), onError: 'raise' })
    const b = new S3Cache({ bucket: server.bucket, prefix, client: server.client(), onError: 'raise' })
    await a.set('k', 'old', 0.2)
    const oldEtag = (await head(`${prefix}k`)).ETag
    await sleep(400) // expiry is a timestamp comparison: only the lower bound matters
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).setIfNotExists('k', { writer: i }, 60)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = results.indexOf(true)
    expect((await head(`${prefix}k`)).ETag).not.toBe(oldEtag)
    expect(await b.get('k')).toEqual({ writer: winner })
  })
})

// The test server's conditional-request extension (test/support/s3rver-process.cjs) against the
// behaviour S3 documents, through the raw SDK client.
describe('test server: S3 conditional writes and deletes', () => {
  /** The HTTP status and S3 error code of a request ('OK' when it succeeded). */
  async function outcome(send: () => Promise<unknown>): Promise<[number, string]> {
    try {
      const res = (await send()) as { $metadata: { httpStatusCode?: number } }
      return [res.$metadata.httpStatusCode ?? 0, 'OK']
    } catch (error) {
      const e = error as { name: string; $metadata?: { httpStatusCode?: number } }
      return [e.$metadata?.httpStatusCode ?? 0, e.name]
    }
  }
  const put = (name: string, body: string, condition: { IfNoneMatch?: string; IfMatch?: string } = {}) =>
    outcome(() => client.send(new PutObjectCommand({ Bucket: server.bucket, Key: name, Body: body, ...condition })))
  const del = (name: string, ifMatch: string) =>
    outcome(() => client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: name, IfMatch: ifMatch })))

  test('PutObject If-None-Match: * writes an absent object and answers 412 over an existing one', async () => {
    const name = `cond-${++run}`
    expect(await put(name, 'one', { IfNoneMatch: '*' })).toEqual([200, 'OK'])
    expect(await put(name, 'two', { IfNoneMatch: '*' })).toEqual([412, 'PreconditionFailed'])
    expect((await rawBody(name)).toString()).toBe('one')
  })

  test('PutObject If-Match replaces only the object with that ETag; 412 on a mismatch or when absent', async () => {
    const name = `cond-${++run}`
    await putRaw(name, 'one')
    const first = (await head(name)).ETag!
    expect(await put(name, 'two', { IfMatch: first })).toEqual([200, 'OK'])
    expect((await rawBody(name)).toString()).toBe('two')
    expect(await put(name, 'three', { IfMatch: first })).toEqual([412, 'PreconditionFailed'])
    expect((await rawBody(name)).toString()).toBe('two')
    expect(await put(`cond-${++run}`, 'x', { IfMatch: first })).toEqual([412, 'PreconditionFailed'])
  })

  test('a plain PutObject still overwrites', async () => {
    const name = `cond-${++run}`
    await putRaw(name, 'one')
    expect(await put(name, 'two')).toEqual([200, 'OK'])
    expect((await rawBody(name)).toString()).toBe('two')
  })

  test('DeleteObject If-Match deletes only the object with that ETag; 412 on a mismatch, 404 when absent', async () => {
    const name = `cond-${++run}`
    await putRaw(name, 'one')
    const first = (await head(name)).ETag!
    await putRaw(name, 'two')
    expect(await del(name, first)).toEqual([412, 'PreconditionFailed'])
    expect((await rawBody(name)).toString()).toBe('two')
    expect(await del(name, (await head(name)).ETag!)).toEqual([204, 'OK'])
    expect(await outcome(() => head(name))).toEqual([404, 'NotFound'])
    expect(await del(name, first)).toEqual([404, 'NoSuchKey'])
  })

  test('of 20 concurrent If-None-Match: * uploads exactly one is stored, the others get 412', async () => {
    const name = `cond-${++run}`
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => put(name, `writer ${i}`, { IfNoneMatch: '*' })))
    const winners = results.flatMap(([status], i) => (status === 200 ? [i] : []))
    expect(winners).toHaveLength(1)
    expect(results.filter(([status, code]) => status === 412 && code === 'PreconditionFailed')).toHaveLength(19)
    expect((await rawBody(name)).toString()).toBe(`writer ${winners[0]}`)
  })
})

describe('dedupeWrites', () => {
  test('an identical value refreshes the timestamps with a metadata-only copy: body and ETag unchanged', async () => {
    const s = store({ dedupeWrites: true })
    const value = { report: 'x'.repeat(10_000) }
    await s.set('k', value, 60)
    const first = await head(`${s.prefix}k`)
    await sleep(50)

    const log = recordCommands(client)
    try {
      await s.set('k', value, 120)
      expect(log.names()).toEqual(['HeadObjectCommand', 'CopyObjectCommand'])
      log.reset()
      await s.set('k', { report: 'changed' }, 60)
      expect(log.names()).toEqual(['HeadObjectCommand', 'PutObjectCommand'])
    } finally {
      client.middlewareStack.remove('acacheTestCommandLog')
    }
    expect((await head(`${s.prefix}k`)).ETag).not.toBe(first.ETag)
    expect(await s.get('k')).toEqual({ report: 'changed' })
  })

  test('after a refresh the body is byte-identical and getEntry reports the new timestamps', async () => {
    const s = store({ dedupeWrites: true })
    await s.set('k', [1, 2, 3], 60)
    const before = await head(`${s.prefix}k`)
    const bodyBefore = await rawBody(`${s.prefix}k`)
    const entryBefore = (await s.getEntry('k'))!
    await sleep(50)
    await s.set('k', [1, 2, 3], 120)
    const after = await head(`${s.prefix}k`)
    expect(after.ETag).toBe(before.ETag)
    expect((await rawBody(`${s.prefix}k`)).equals(bodyBefore)).toBe(true)
    const entryAfter = (await s.getEntry('k'))!
    expect(entryAfter.createdAt).toBeGreaterThan(entryBefore.createdAt)
    expect(entryAfter.freshUntil).toBeCloseTo(entryAfter.createdAt + 120, 6)
    expect(Number(after.Metadata!['acache-expires-at'])).toBeCloseTo(entryAfter.createdAt + 120, 3)
    expect(after.Metadata!['acache-value-sha256']).toMatch(/^[0-9a-f]{64}$/)
  })

  test('a name s3rver cannot copy (it decodes x-amz-copy-source with decodeURI) falls back to an upload', async () => {
    const s = store({ dedupeWrites: true })
    await s.set('a:b?c', 'v', 60)
    const log = recordCommands(client)
    try {
      await s.set('a:b?c', 'v', 60)
      expect(log.names()).toEqual(['HeadObjectCommand', 'CopyObjectCommand', 'PutObjectCommand'])
    } finally {
      client.middlewareStack.remove('acacheTestCommandLog')
    }
    expect(await s.get('a:b?c')).toBe('v')
  })

  test('without dedupeWrites the same value is uploaded again (new ETag)', async () => {
    const s = store()
    await s.set('k', [1, 2, 3], 60)
    const before = await head(`${s.prefix}k`)
    await sleep(20)
    await s.set('k', [1, 2, 3], 60)
    expect((await head(`${s.prefix}k`)).ETag).not.toBe(before.ETag)
  })
})

describe('a missing bucket', () => {
  test('is a failure (NoSuchBucket) reported through onError, not a silent miss', async () => {
    const reports: unknown[] = []
    const s = new S3Cache({ bucket: 'no-such-bucket', prefix: 'p/', client, onError: (e) => reports.push(e) })
    expect(await s.get('k')).toBeUndefined()
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatchObject({ name: 'NoSuchBucket' })
  })
})

describe('getMany / setMany concurrency', () => {
  test('at most `concurrency` requests are in flight', async () => {
    const s = store({ concurrency: 4 })
    const items = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]))
    const log = recordCommands(client)
    try {
      await s.setMany(items, 0)
      expect(log.maxInFlight).toBe(4)
      log.reset()
      const got = await s.getMany([...Object.keys(items), 'missing'])
      expect(log.maxInFlight).toBe(4)
      expect(got.size).toBe(40)
      expect(got.get('k39')).toBe(39)
    } finally {
      client.middlewareStack.remove('acacheTestCommandLog')
    }
  })

  test('the default concurrency is 16', () => {
    expect(store().concurrency).toBe(16)
  })
})

describe('options', () => {
  const base = (): S3CacheOptions => ({ bucket: 'b', client })
  test.each([
    [{ bucket: '' }, /"bucket"/],
    [{ bucket: 3 }, /"bucket"/],
    [{ prefix: 7 }, /"prefix"/],
    [{ prefix: '/abs' }, /"prefix"/],
    [{ prefix: 'a/../' }, /"prefix"/],
    [{ prefix: 'x'.repeat(1000) /* no room for a hashed name */ }, /"prefix"/],
    [{ client: {} }, /"client"/],
    [{ compress: 'yes' }, /"compress"/],
    [{ dedupeWrites: 1 }, /"dedupeWrites"/],
    [{ onError: 'loud' }, /"onError"/],
    [{ timeout: 0 }, /"timeout"/],
    [{ timeout: '5 parsecs' }, /"timeout"/],
    [{ concurrency: 0 }, /"concurrency"/],
    [{ concurrency: 1.5 }, /"concurrency"/],
    [{ serializer: 'yaml' }, /serializer/],
    [{ name: '' }, /"name"/],
    [{ prefx: 'a/' }, /unknown option "prefx"/],
  ])('%o → TypeError', (bad, message) => {
    expect(() => new S3Cache({ ...base(), ...(bad as object) } as S3CacheOptions)).toThrow(TypeError)
    expect(() => new S3Cache({ ...base(), ...(bad as object) } as S3CacheOptions)).toThrow(message)
  })

  test('timeout takes a duration string; defaults are 5 s and prefix ""', () => {
    expect(new S3Cache({ ...base(), timeout: '250ms' }).timeout).toBe(0.25)
    const s = new S3Cache(base())
    expect(s.timeout).toBe(5)
    expect(s.prefix).toBe('')
  })

  test('without client, a default S3Client is created (and close() destroys it)', async () => {
    const s = new S3Cache({ bucket: 'b' })
    expect(typeof s.client.send).toBe('function')
    s.close()
  })

  test('an unserializable value throws a SerializationError naming the key; undefined a TypeError', async () => {
    const s = store()
    await expect(s.set('bad-key', new Map([[1, 2]]), 0)).rejects.toThrow(/bad-key/)
    await expect(s.set('bad-key', new Map([[1, 2]]), 0)).rejects.toMatchObject({ name: 'SerializationError' })
    await expect(s.set('u', undefined, 0)).rejects.toThrow(TypeError)
    await expect(s.setMany({ ok: 1, nope: new Map() }, 0)).rejects.toThrow(/nope/)
    expect(await s.exists('ok')).toBe(false) // nothing of the batch was written
    await expect(s.set('k', 1, -1)).rejects.toThrow(/ttl/)
  })
})
