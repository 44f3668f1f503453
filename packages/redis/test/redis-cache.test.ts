import { runStorageSuite } from '@acache/storage-test-suite'
import { HybridCache as CoreHybridCache, InMemoryMetrics, serializers, supportsLocking, WireFormatError } from '@acache/core'
import { createClient, RESP_TYPES } from 'redis'
import { HybridCache, LOCK_NAMESPACE, RedisCache } from '../src/index.js'
import { connect, sleep, type TestClient } from './support/clients.js'
import { RedisServer } from './support/redis-server.js'

let server: RedisServer
let client: TestClient
let raw: TestClient // a second connection: raw reads, MONITOR-free checks
let n = 0
const stores: Array<RedisCache | HybridCache> = []
const track = <T extends RedisCache | HybridCache>(s: T): T => (stores.push(s), s)

beforeAll(async () => {
  server = await RedisServer.start()
  client = await connect(server.url)
  raw = await connect(server.url)
})

afterAll(async () => {
  for (const s of stores) await s.close()
  await client?.close()
  await raw?.close()
  await server?.stop()
})

const bytesOf = (key: string) => raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get(key)

runStorageSuite(
  { describe, test },
  {
    name: 'RedisCache',
    create: () => track(new RedisCache(client, { prefix: `suite:${++n}:` })),
    createSibling: () => track(new RedisCache(client, { prefix: `sibling:${++n}:` })),
    capabilities: { ttlResolutionSeconds: 0.001 },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'RedisCache (v8 serializer, dedupeWrites)',
    create: () => track(new RedisCache(client, { prefix: `suite-v8:${++n}:`, serializer: 'v8', dedupeWrites: true })),
    capabilities: { binary: true },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'HybridCache.fromRedis',
    create: async () => {
      const h = track(HybridCache.fromRedis(client, { prefix: `suite-h:${++n}:`, l1Ttl: 10 }))
      await h.ready
      return h
    },
    createSibling: () => track(HybridCache.fromRedis(client, { prefix: `suite-hs:${++n}:`, bus: false })),
  },
)

describe('RedisCache specifics', () => {
  test('the wire-format test vector, byte for byte, through a raw GET', async () => {
    const store = track(new RedisCache(client, { prefix: 'vec:' }))
    await store.setEntry('k', { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }, 60)
    expect((await bytesOf('vec:k'))!.toString('hex')).toBe('41d954fc4f00000041d954fc400000007b2261223a317d')
    // and the other way round: bytes written by someone else (e.g. the Python library) are read
    await raw.set('vec:py', Buffer.from('7ff000000000000041d954fc400000007b2261223a317d', 'hex'))
    expect(await store.getEntry('py')).toEqual({ value: { a: 1 }, freshUntil: Infinity, createdAt: 1700000000 })
  })

  test('reads honour a client-level keyPrefix (which only node-redis typed commands apply)', async () => {
    const prefixed = createClient({ url: server.url, keyPrefix: 'app:' })
    prefixed.on('error', () => {})
    await prefixed.connect()
    try {
      const store = track(new RedisCache(prefixed, { prefix: 'kp:', onError: 'raise' }))
      await store.set('k', { a: 1 }, 60)
      expect((await bytesOf('app:kp:k'))!.length).toBeGreaterThan(16)
      expect(await store.get('k')).toEqual({ a: 1 })
      expect((await store.getEntry('k'))?.value).toEqual({ a: 1 })
      // and on a client without one, the same entry is read under its full name
      const plain = track(new RedisCache(client, { prefix: 'app:kp:', onError: 'raise' }))
      expect(await plain.get('k')).toEqual({ a: 1 })
      // clear() finds the keys under their full name and removes them; others stay
      await store.set('k2', 2, 60)
      await raw.set('app:other', 'x')
      await store.clear()
      expect(await bytesOf('app:kp:k')).toBeNull()
      expect(await bytesOf('app:kp:k2')).toBeNull()
      expect(await raw.get('app:other')).toBe('x')
    } finally {
      await prefixed.close()
    }
  })

  test('physical TTLs are milliseconds: a fractional ttl is honoured; ttl 0 = no expiry', async () => {
    const store = track(new RedisCache(client, { prefix: 'px:' }))
    await store.set('a', 1, 1.25)
    const pttl = await raw.pTTL('px:a')
    expect(pttl).toBeGreaterThan(1000)
    expect(pttl).toBeLessThanOrEqual(1250)
    await store.set('b', 1, 0)
    expect(await raw.pTTL('px:b')).toBe(-1)
    await store.setIfNotExists('c', 1, 0.4)
    expect(await raw.pTTL('px:c')).toBeLessThanOrEqual(400)
  })

  test('getMany is one MGET and setMany one pipeline (INFO commandstats)', async () => {
    const store = track(new RedisCache(client, { prefix: 'many:' }))
    const stats = async () => {
      const info = await raw.info('commandstats')
      const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
      return { mget: calls('mget'), get: calls('get'), set: calls('set'), multi: calls('multi') }
    }
    const before = await stats()
    await store.setMany({ a: 1, b: 2, c: 3 }, 60)
    const got = await store.getMany(['a', 'b', 'c', 'missing'])
    const after = await stats()
    expect(Object.fromEntries(got)).toEqual({ a: 1, b: 2, c: 3 })
    expect(after.mget - before.mget).toBe(1)
    expect(after.get - before.get).toBe(0)
    expect(after.set - before.set).toBe(3)
    expect(after.multi - before.multi).toBe(0) // a pipeline, not a transaction
    expect(await raw.pTTL('many:b')).toBeGreaterThan(59_000)
  })

  test('clear removes only keys under the prefix; an empty prefix refuses unless asked to flush', async () => {
    await raw.set('other:x', '1')
    await raw.set('clr*:x', '1') // glob characters in a prefix are matched literally
    const store = track(new RedisCache(client, { prefix: 'clr:' }))
    await store.setMany({ a: 1, b: 2 }, 0)
    await store.clear()
    expect(await raw.exists(['clr:a', 'clr:b'])).toBe(0)
    expect(await raw.get('other:x')).toBe('1')
    const starry = track(new RedisCache(client, { prefix: 'clr*:' }))
    await starry.clear()
    expect(await raw.get('other:x')).toBe('1')
    expect(await raw.exists('clr*:x')).toBe(0)

    const reported: string[] = []
    const bare = track(new RedisCache(client, { onError: (e) => reported.push((e as Error).message) }))
    await bare.clear()
    expect(reported).toEqual([expect.stringMatching(/refusing to clear with an empty prefix/)])
    expect(await raw.get('other:x')).toBe('1')
    const raising = track(new RedisCache(client, { onError: 'raise' }))
    await expect(raising.clear()).rejects.toThrow(TypeError)
    expect(await raw.get('other:x')).toBe('1')
    await raising.clear({ flushDatabase: true })
    expect(await raw.dbSize()).toBe(0)
  })

  test('dedupeWrites: an identical value is not rewritten, only its timestamps and TTL (keyspace events)', async () => {
    await raw.configSet('notify-keyspace-events', 'KA')
    const sub = client.duplicate()
    sub.on('error', () => {})
    await sub.connect()
    const events: string[] = []
    await sub.pSubscribe('__keyspace@0__:dd:*', (event, channel) => events.push(`${channel.slice('__keyspace@0__:'.length)} ${event}`))
    try {
      const store = track(new RedisCache(client, { prefix: 'dd:', dedupeWrites: true }))
      await store.set('k', { big: 'x'.repeat(1000) }, 60)
      const first = await store.getEntry('k')
      await sleep(20)
      await store.set('k', { big: 'x'.repeat(1000) }, 120)
      await store.set('k', { big: 'y'.repeat(1000) }, 60)
      await sleep(100)
      // SET PX notifies set + expire; the deduplicated write only setrange (the 16-byte header) + expire
      expect(events).toEqual(['dd:k set', 'dd:k expire', 'dd:k setrange', 'dd:k expire', 'dd:k set', 'dd:k expire'])
      // the deduplicated write still refreshed the timestamps (so the engine sees it fresh)
      await store.set('k', { big: 'y'.repeat(1000) }, 0)
      const last = await store.getEntry('k')
      expect(last!.createdAt).toBeGreaterThan(first!.createdAt)
      expect(last!.freshUntil).toBe(Infinity)
      expect(await raw.pTTL('dd:k')).toBe(-1)
    } finally {
      await sub.close()
      await raw.configSet('notify-keyspace-events', '')
    }
  })

  test('a corrupt entry is a miss plus a reported error', async () => {
    const metrics = new InMemoryMetrics()
    const seen: unknown[] = []
    const store = track(new RedisCache(client, { prefix: 'bad:', metrics, onError: (e) => seen.push(e) }))
    await raw.set('bad:short', 'abc')
    await raw.set('bad:payload', Buffer.concat([Buffer.alloc(16), Buffer.from('{not json')]))
    expect(await store.get('short')).toBeUndefined()
    expect(await store.getEntry('payload')).toBeUndefined()
    expect(await store.getMany(['short', 'payload'])).toEqual(new Map())
    expect(seen).toHaveLength(4)
    expect(seen.every((e) => e instanceof WireFormatError)).toBe(true)
    expect(metrics.getStats().errors['RedisCache.decode']).toEqual({ WireFormatError: 4 })
  })

  test('an unserializable value is an error naming the key', async () => {
    const raising = track(new RedisCache(client, { prefix: 'ser:', onError: 'raise' }))
    await expect(raising.set('user:1', { when: new Date() }, 60)).rejects.toThrow(/key "user:1".*Date at \$\.when/)
    await expect(raising.setMany({ ok: 1, 'user:2': new Map() }, 60)).rejects.toThrow(/key "user:2"/)
    expect(await raw.exists('ser:ok')).toBe(0) // nothing of a refused batch was written
    const seen: string[] = []
    const silent = track(new RedisCache(client, { prefix: 'ser:', onError: (e, info) => seen.push(`${info.operation} ${info.key} ${(e as Error).message}`) }))
    await expect(silent.set('user:3', () => 1, 60)).resolves.toBeUndefined()
    expect(seen).toEqual([expect.stringMatching(/^set user:3 .*key "user:3".*function/)])
  })

  test('bad options throw TypeErrors naming the option', () => {
    expect(() => new RedisCache({} as never)).toThrow(TypeError)
    expect(() => new RedisCache(client, { prefx: 'a' } as never)).toThrow(/prefx/)
    expect(() => new RedisCache(client, { timeout: 'soon' })).toThrow(/timeout/)
    expect(() => new RedisCache(client, { breaker: { failures: 0 } })).toThrow(/breaker.failures/)
    expect(() => new RedisCache(client, { serializer: 'yaml' as never })).toThrow(/serializer/)
    expect(() => new RedisCache(client, { onError: 'loud' as never })).toThrow(/onError/)
  })

  test('the lock: SET NX PX under the prefix, a heartbeat that resets (never extends) the TTL, compare-and-delete', async () => {
    const store = track(new RedisCache(client, { prefix: 'lk:' }))
    const lock = await store.tryLock('job', 0.3)
    expect(lock).not.toBeNull()
    expect(await store.tryLock('job', 0.3)).toBeNull()
    const lockKey = `lk:${LOCK_NAMESPACE}job`
    const samples: number[] = []
    for (let i = 0; i < 20; i++) {
      samples.push(await raw.pTTL(lockKey))
      await sleep(40)
    }
    // 800 ms > timeout: still held thanks to the heartbeat, never above the timeout
    expect(Math.min(...samples)).toBeGreaterThan(0)
    expect(Math.max(...samples)).toBeLessThanOrEqual(300)
    await lock!.release()
    expect(await raw.exists(lockKey)).toBe(0)
    // release is compare-and-delete: an expired lock taken by another holder is left alone
    const mine = await store.tryLock('x', 0.05)
    ;(mine as unknown as { stopHeartbeat(): void }).stopHeartbeat()
    await sleep(120)
    const theirs = await store.tryLock('x', 5)
    await mine!.release()
    expect(await raw.exists(`lk:${LOCK_NAMESPACE}x`)).toBe(1)
    await theirs!.release()
    expect(await raw.exists(`lk:${LOCK_NAMESPACE}x`)).toBe(0)
    await expect(store.tryLock('x', 0)).rejects.toThrow(TypeError)
    // the lock namespace is invisible to entry reads
    expect(await store.get(`${LOCK_NAMESPACE}job`)).toBeUndefined()
  })

  test('HybridCache.fromRedis: a core HybridCache that forwards the lock and wires the bus', async () => {
    const h = track(HybridCache.fromRedis(client, { prefix: 'hy:', l1Ttl: 5 }))
    expect(h).toBeInstanceOf(CoreHybridCache)
    expect([h.l1Ttl, h.l2Ttl]).toEqual([5, 10])
    expect(supportsLocking(h)).toBe(true)
    expect(h.bus).toBeDefined()
    await h.set('k', 1, 0)
    expect(await raw.pTTL('hy:k')).toBeGreaterThan(9000) // l2Ttl for writes without expiry
    const lock = await h.tryLock!('k', 1)
    expect(await raw.exists(`hy:${LOCK_NAMESPACE}k`)).toBe(1)
    await lock!.release()
    expect(supportsLocking(HybridCache.fromRedis(client, { prefix: 'hy2:', bus: false }))).toBe(true)
  })

  test('serializers are pluggable (v8 keeps a Map)', async () => {
    const store = track(new RedisCache(client, { prefix: 'v8:', serializer: serializers.v8 }))
    await store.set('m', new Map([['a', 1n]]), 60)
    expect(await store.get('m')).toEqual(new Map([['a', 1n]]))
  })
})
