/**
 * RedisCache, HybridCache.fromRedis and RedisInvalidationBus on a real Redis Cluster (3 masters,
 * 3 replicas, started by test/support/redis-cluster.ts): the storage suite, multi-slot
 * getMany / setMany / clear, hash tags, the lock and the bus.
 */
import { cache } from '@acache/core'
import { runStorageSuite } from '@acache/storage-test-suite'
import { createClient } from 'redis'
import { HybridCache, LOCK_NAMESPACE, RedisCache, RedisInvalidationBus } from '../src/index.js'
import { keySlot } from '../src/key-slot.js'
import { connectCluster, sleep, type TestCluster } from './support/clients.js'
import { RedisCluster } from './support/redis-cluster.js'

let redis: RedisCluster
let client: TestCluster
let raw: TestCluster // a second cluster connection for raw checks
let n = 0
const stores: Array<RedisCache | HybridCache> = []
const track = <T extends RedisCache | HybridCache>(s: T): T => (stores.push(s), s)

beforeAll(async () => {
  // no failover here: a long node timeout lets a master hang (SIGSTOP) for a moment without one
  redis = await RedisCluster.start({ nodeTimeoutMs: 15_000 })
  client = await connectCluster(redis.rootNodes)
  raw = await connectCluster(redis.rootNodes)
}, 120_000)

afterAll(async () => {
  for (const s of stores) await s.close()
  await client?.close()
  await raw?.close()
  await redis?.stop()
}, 60_000)

/** `INFO commandstats` calls of `command` summed over the masters. */
async function calls(command: string): Promise<number> {
  let total = 0
  for (const m of await redis.masters()) {
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await m.cli('info', 'commandstats'))
    total += match ? Number(match[1]) : 0
  }
  return total
}

const resetStats = async () => Promise.all((await redis.masters()).map((m) => m.cli('config', 'resetstat')))

/** Keys whose slots fall on every master (a multi-slot batch that must be split). */
function spreadKeys(count: number, tag = ''): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}k${i}`)
}

runStorageSuite(
  { describe, test },
  {
    name: 'RedisCache on a cluster',
    create: () => track(new RedisCache(client, { prefix: `suite:${++n}:` })),
    createSibling: () => track(new RedisCache(client, { prefix: `sibling:${++n}:` })),
    capabilities: { ttlResolutionSeconds: 0.001 },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'RedisCache on a cluster (v8 serializer, dedupeWrites)',
    create: () => track(new RedisCache(client, { prefix: `suite-v8:${++n}:`, serializer: 'v8', dedupeWrites: true })),
    capabilities: { binary: true },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'HybridCache.fromRedis on a cluster',
    create: async () => {
      const h = track(HybridCache.fromRedis(client, { prefix: `suite-h:${++n}:`, l1Ttl: 10 }))
      await h.ready
      return h
    },
    createSibling: () => track(HybridCache.fromRedis(client, { prefix: `suite-hs:${++n}:`, bus: false })),
  },
)

describe('hash slots', () => {
  test('keySlot agrees with CLUSTER KEYSLOT, hash tags and prefixes included', async () => {
    const keys = [
      'foo', '', 'app:user:1', '{t1}', 'app:{t1}:user:1', 'app:{t1}:order:9', 'app:{}:{t1}', '{}', '{', '}{t1}',
      'app{:{t1}:x', 'a}b:{t1}:x', '{a}{b}', 'ünïcødé:{tenant-ß}:1', 'emoji:😀', 'x'.repeat(300), 'app:{{t1}}',
    ]
    for (const key of keys) {
      const expected = await raw.sendCommand(undefined, true, ['CLUSTER', 'KEYSLOT', key])
      expect([key, keySlot(key)]).toEqual([key, expected])
      expect(keySlot(Buffer.from(key))).toBe(expected)
    }
  })

  test('a hash tag in the key survives a brace-free prefix; a prefix with "{" takes over or breaks it', () => {
    // acache prepends the prefix: Redis hashes the first {…} of the *full* key.
    expect(keySlot('app:' + '{tenant1}:user:1')).toBe(keySlot('tenant1'))
    expect(keySlot('a}b:' + '{tenant1}:user:1')).toBe(keySlot('tenant1')) // a "}" alone in the prefix is harmless
    expect(keySlot('{app}:' + '{tenant1}:user:1')).toBe(keySlot('app')) // the prefix's tag wins: one slot for the store
    expect(keySlot('{app}:' + 'user:1')).toBe(keySlot('{app}:' + 'user:2'))
    expect(keySlot('app{:' + '{tenant1}:user:1')).toBe(keySlot(':{tenant1')) // unbalanced "{": neither
    expect(keySlot('app:{}:' + '{tenant1}:x')).toBe(keySlot('app:{}:{tenant1}:x')) // empty tag: the whole key
    expect(keySlot('app:{}:' + '{tenant1}:x')).not.toBe(keySlot('tenant1'))
  })
})

describe('multi-key operations across slots', () => {
  test('setMany / getMany over keys on every master: all round-trip, one command per slot', async () => {
    const store = track(new RedisCache(client, { prefix: 'multi:' }))
    const keys = spreadKeys(120)
    const slots = new Set(keys.map((k) => keySlot('multi:' + k)))
    const ownerOf = await redis.slotOwners()
    const owners = new Set([...slots].map((s) => ownerOf(s).port))
    expect(owners.size).toBe(3) // the batch really spans the three shards
    await store.setMany(Object.fromEntries(keys.map((k, i) => [k, { i }])), 60)
    for (const k of keys.slice(0, 10)) expect(await raw.exists('multi:' + k)).toBe(1)
    await resetStats()
    const got = await store.getMany([...keys, 'absent'])
    expect(got.size).toBe(keys.length)
    keys.forEach((k, i) => expect(got.get(k)).toEqual({ i }))
    expect(got.has('absent')).toBe(false)
    // one GET or MGET per slot (+1 slot for 'absent'), never one command across slots
    expect((await calls('get')) + (await calls('mget'))).toBe(new Set([...slots, keySlot('multi:absent')]).size)
  })

  test('keys sharing a hash tag are fetched with one MGET', async () => {
    const store = track(new RedisCache(client, { prefix: 'tagged:' }))
    const keys = spreadKeys(50, '{tenant7}:')
    await store.setMany(new Map(keys.map((k) => [k, k.toUpperCase()])), 60)
    expect(new Set(keys.map((k) => keySlot('tagged:' + k))).size).toBe(1)
    await resetStats()
    const got = await store.getMany(keys)
    expect([...got.values()]).toEqual(keys.map((k) => k.toUpperCase()))
    expect(await calls('mget')).toBe(1)
    expect(await calls('get')).toBe(0)
  })

  test("a key template with a literal hash tag ('{{{tenant}}}:…') keeps a tenant's entries in one slot", async () => {
    const store = track(new RedisCache(client, { prefix: 'tpl:' }))
    let loads = 0
    const getUser = cache(60, { key: '{{{tenant}}}:user:{id}', store })(async (tenant: string, id: number) => ({ tenant, id, n: ++loads }))
    expect(getUser.key('acme', 5)).toBe('{acme}:user:5')
    for (let id = 0; id < 20; id++) await getUser('acme', id)
    const keys = Array.from({ length: 20 }, (_, id) => getUser.key('acme', id))
    const slots = await Promise.all(keys.map((k) => raw.sendCommand(undefined, true, ['CLUSTER', 'KEYSLOT', `tpl:${k}`])))
    expect(new Set(slots)).toEqual(new Set([keySlot('acme')]))
    await resetStats()
    expect((await store.getMany(keys)).size).toBe(20)
    expect(await calls('mget')).toBe(1)
    expect(loads).toBe(20)
  })

  test('a prefix with a hash tag pins the whole store to one slot (and one master)', async () => {
    const store = track(new RedisCache(client, { prefix: '{hot}:' }))
    const keys = spreadKeys(30)
    await store.setMany(Object.fromEntries(keys.map((k) => [k, 1])), 60)
    const slots = await Promise.all(keys.map((k) => raw.sendCommand(undefined, true, ['CLUSTER', 'KEYSLOT', `{hot}:${k}`])))
    expect(new Set(slots)).toEqual(new Set([keySlot('hot')]))
    expect((await store.getMany(keys)).size).toBe(30)
    await store.clear()
    expect((await store.getMany(keys)).size).toBe(0)
  })

  test('clear() scans every master: keys under the prefix go (tagged, untagged, locks); other prefixes stay', async () => {
    const store = track(new RedisCache(client, { prefix: 'clr:' }))
    const keys = [...spreadKeys(200), ...spreadKeys(20, '{t1}:'), ...spreadKeys(20, '{t2}:')]
    await store.setMany(Object.fromEntries(keys.map((k) => [k, k])), 60)
    const lock = await store.tryLock('busy', 30)
    expect(lock).not.toBeNull()
    const foreign = ['clr', 'clrx:a', 'other:clr:a', 'CLR:a', '{clr:}a', 'cl*:a']
    for (const k of foreign) await raw.set(k, 'keep')
    await store.clear()
    expect((await store.getMany(keys)).size).toBe(0)
    expect(await raw.exists(store.lockKey('busy'))).toBe(0)
    for (const k of foreign) expect(await raw.get(k)).toBe('keep')
    // nothing under the prefix is left on any master
    for (const m of await redis.masters()) expect((await m.cli('--scan', '--pattern', 'clr:*')).trim()).toBe('')
    await lock!.release()
  })

  test('getMany / setMany / clear with glob characters and hash tags in the prefix', async () => {
    const store = track(new RedisCache(client, { prefix: 'g*{x}[1]:' }))
    const lookalike = 'gA{x}1:k0'
    await raw.set(lookalike, 'keep')
    await store.setMany({ k0: 0, k1: 1, k2: 2 }, 60)
    expect([...(await store.getMany(['k0', 'k1', 'k2'])).entries()]).toEqual([['k0', 0], ['k1', 1], ['k2', 2]])
    await store.clear()
    expect((await store.getMany(['k0', 'k1', 'k2'])).size).toBe(0)
    expect(await raw.get(lookalike)).toBe('keep')
  })
})

describe('lock on a cluster', () => {
  test('tryLock is exclusive, the lock key lives on the master of its slot, and release frees it', async () => {
    const store = track(new RedisCache(client, { prefix: 'lk:' }))
    const other = track(new RedisCache(raw, { prefix: 'lk:' }))
    const lockKey = `lk:${LOCK_NAMESPACE}{tenant1}:report`
    expect(store.lockKey('{tenant1}:report')).toBe(lockKey)
    expect(keySlot(lockKey)).toBe(keySlot('lk:{tenant1}:report')) // same slot as the entry it guards
    const lock = await store.tryLock('{tenant1}:report', 2)
    expect(lock).not.toBeNull()
    expect(await other.tryLock('{tenant1}:report', 2)).toBeNull()
    const owner = await redis.masterOfSlot(keySlot(lockKey))
    expect(Number((await owner.cli('pttl', lockKey)).trim())).toBeGreaterThan(0)
    await sleep(1000) // the heartbeat (every timeout / 3) keeps it at most 2 s and alive
    const pttl = await raw.pTTL(lockKey)
    expect(pttl).toBeGreaterThan(1000)
    expect(pttl).toBeLessThanOrEqual(2000)
    await lock!.release()
    expect(await raw.exists(lockKey)).toBe(0)
    const again = await other.tryLock('{tenant1}:report', 2)
    expect(again).not.toBeNull()
    await again!.release()
  })
})

describe('invalidation bus on a cluster', () => {
  test('a published invalidation reaches subscribers on every node, masters and replicas', async () => {
    const bus = new RedisInvalidationBus(client, { channel: 'acache:test:fanout' })
    const received: string[][] = redis.nodes.map(() => [])
    const subscribers = await Promise.all(
      redis.nodes.map(async (node, i) => {
        const sub = createClient({ url: `redis://${node.address}` })
        sub.on('error', () => {})
        await sub.connect()
        await sub.subscribe('acache:test:fanout', (m) => received[i].push(m))
        return sub
      }),
    )
    try {
      for (let round = 0; round < 3; round++) await bus.publish({ keys: [`k${round}`] }) // through each master in turn
      const until = Date.now() + 2000
      while (Date.now() < until && received.some((r) => r.length < 3)) await sleep(10)
      // each subscriber gets every message; published through different masters, they may arrive
      // in any order (harmless: an invalidation only evicts)
      for (const r of received) expect(r.map((m) => JSON.parse(m).keys[0]).sort()).toEqual(['k0', 'k1', 'k2'])
    } finally {
      await bus.close()
      for (const sub of subscribers) await sub.close()
    }
  })

  test("a write through one HybridCache evicts the key from the others' L1, whatever node their subscriber uses", async () => {
    const prefix = 'busx:'
    const clients = await Promise.all(Array.from({ length: 4 }, () => connectCluster(redis.rootNodes)))
    const hybrids = clients.map((c) => HybridCache.fromRedis(c, { prefix, l1Ttl: 60 }))
    try {
      await Promise.all(hybrids.map((h) => h.ready))
      await hybrids[0].set('{t}:k', 'v1', 60)
      await sleep(200) // let the write's own invalidation pass (a read racing it is not kept in L1)
      for (const h of hybrids.slice(1)) expect(await h.get('{t}:k')).toBe('v1') // now in their L1s
      for (const h of hybrids.slice(1)) expect(await h.l1.exists('{t}:k')).toBe(true)
      await hybrids[0].set('{t}:k', 'v2', 60)
      const until = Date.now() + 2000
      const evicted = async () => (await Promise.all(hybrids.slice(1).map((h) => h.l1.exists('{t}:k')))).every((x) => !x)
      while (Date.now() < until && !(await evicted())) await sleep(5)
      expect(await evicted()).toBe(true)
      for (const h of hybrids.slice(1)) expect(await h.get('{t}:k')).toBe('v2')
    } finally {
      for (const h of hybrids) await h.close()
      for (const c of clients) await c.close()
    }
  })
})

describe('one hung master (SIGSTOP)', () => {
  test('getMany / setMany lose only its keys; its breaker opens, the other masters stay in use', async () => {
    const reported: Array<{ error: unknown; operation: string }> = []
    const store = track(
      new RedisCache(client, {
        prefix: 'hung:',
        timeout: '300ms',
        breaker: { failures: 1, cooldown: '300ms' },
        onError: (error, info) => reported.push({ error, operation: info.operation }),
      }),
    )
    const keys = spreadKeys(60)
    await store.setMany(Object.fromEntries(keys.map((k) => [k, k])), 60)
    const ownerOf = await redis.slotOwners()
    const victim = ownerOf(keySlot('hung:' + keys[0]))
    const onVictim = keys.filter((k) => ownerOf(keySlot('hung:' + k)) === victim)
    const elsewhere = keys.filter((k) => ownerOf(keySlot('hung:' + k)) !== victim)
    expect(onVictim.length).toBeGreaterThan(0)
    expect(elsewhere.length).toBeGreaterThan(0)
    victim.pause()
    try {
      const t0 = performance.now()
      const got = await store.getMany(keys)
      const took = performance.now() - t0
      expect([...got.keys()].sort()).toEqual([...elsewhere].sort()) // the healthy shards answered
      expect(took).toBeLessThan(1500) // bounded by the deadline, not by the hung node
      expect(reported.map((r) => [r.operation, (r.error as Error).name])).toEqual([['getMany', 'TimeoutError']])
      expect(store.circuitState).toBe('open') // the victim's breaker…
      // …but only the victim's: the others are still asked, the victim is skipped at once
      const t1 = performance.now()
      await store.setMany(Object.fromEntries(keys.map((k) => [k, `${k}!`])), 60)
      expect(performance.now() - t1).toBeLessThan(250)
      expect(reported.slice(1).map((r) => [r.operation, (r.error as Error).name])).toEqual([['setMany', 'CircuitOpenError']])
      for (const k of elsewhere.slice(0, 5)) expect(await store.get(k)).toBe(`${k}!`)
    } finally {
      victim.resume()
    }
    await sleep(400) // cool-down: the next call probes the victim
    const after = await store.getMany(keys)
    expect(after.size).toBe(keys.length)
    for (const k of onVictim) expect(after.get(k)).toBe(k) // its keys kept the old values (skipped writes)
    expect(store.circuitState).toBe('closed')
  })
})

describe('misuse on a cluster', () => {
  test('an empty prefix refuses clear() unless flushDatabase, which empties every master', async () => {
    const errors: unknown[] = []
    const store = track(new RedisCache(client, { onError: (e) => errors.push(e) }))
    await store.set('flush:a', 1, 60)
    await store.clear()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TypeError)
    expect(await store.get('flush:a')).toBe(1)
    await Promise.all(spreadKeys(60).map((k) => raw.set(`everywhere:${k}`, '1')))
    await store.clear({ flushDatabase: true })
    expect(errors).toHaveLength(1)
    for (const m of await redis.masters()) expect(Number((await m.cli('dbsize')).trim())).toBe(0)
  })
})
