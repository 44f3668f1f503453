/**
 * The tiered store every cached endpoint uses, built from the configuration:
 *
 * - default: `ChainCache(memory → file [→ s3] [→ gcs])`
 * - with Redis: `HybridCache(L1 memory, L2 = redis [→ s3] [→ gcs])` with a `RedisInvalidationBus`,
 *   so an invalidation in one demo process evicts the key from every other one's L1.
 *
 * Every level is wrapped in `InstrumentedStorage` under the name `tier:<kind>`, which is where the
 * per-tier hit rates of `/stats`, `/metrics` and the dashboard come from.
 */
import { join } from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { ChainCache, HybridCache, InMemCache, InstrumentedStorage, type CacheStorage, type ChainErrorHandler, type ErrorHandler, type MetricsCollector } from '@acache/core'
import { LocalFileCache } from '@acache/file'
import { GCSCache } from '@acache/gcs'
import { RedisCache, RedisInvalidationBus } from '@acache/redis'
import { S3Cache } from '@acache/s3'
import { Storage } from '@google-cloud/storage'
import type { DemoConfig } from './config.js'
import type { DemoRedisClient } from './redis-connection.js'
import { REDIS_TIER_PREFIX } from './shared-store.js'

/** The longest an entry stays in the in-memory L1, seconds: after that it is read from the next tier. */
export const L1_TTL = 5
/** Cap of the shared tier (file or Redis), seconds. */
export const SHARED_TIER_TTL = 600

export type TierKind = 'memory' | 'file' | 'redis' | 's3' | 'gcs'

/** One level of the chain, top first. */
export interface TierInfo {
  kind: TierKind
  /** The name its metrics are recorded under (`tier:memory`, …). */
  metricsName: string
  /** Where it keeps entries, for people. */
  where: string
  /** The longest it keeps an entry, seconds; `undefined` = as long as the write says. */
  ttlCap: number | undefined
}

/** The built store and what is needed to watch and close it. */
export interface Tiers {
  /** What `cache()` gets as `store`. */
  store: CacheStorage
  tiers: TierInfo[]
  /** `ChainCache` or `HybridCache` (+ invalidation bus). */
  composition: string
  /** The raw L1 (for its memory gauge). */
  memory: InMemCache
  /** Stops the stores' timers and closes the clients the tiers own (not the Redis client). */
  close(): Promise<void>
}

export interface TierOptions {
  metrics: MetricsCollector
  /** Receives failures of any store (they never reach the caller). */
  onError: ErrorHandler
  /** A connected client when Redis is configured. */
  redis?: DemoRedisClient
}

/**
 * @example
 * const tiers = buildTiers(config, { metrics, onError: (e, info) => console.warn(info, e) })
 * const getProduct = cache(60, { key: 'product:{id}', store: tiers.store })(loadProduct)
 */
export function buildTiers(config: DemoConfig, options: TierOptions): Tiers {
  const { metrics, onError } = options
  const tiers: TierInfo[] = []
  const closers: Array<() => unknown> = []
  const instrument = (kind: TierKind, store: CacheStorage, where: string, ttlCap: number | undefined): CacheStorage => {
    const metricsName = `tier:${kind}`
    tiers.push({ kind, metricsName, where, ttlCap })
    return new InstrumentedStorage(store, metrics, metricsName)
  }
  const storeOptions = (kind: TierKind) => ({ name: `tier:${kind}`, metrics, onError })
  const chainErrors: ChainErrorHandler = (error, info) => onError(error, info)

  const memory = new InMemCache({ maxSize: 5_000 })
  const top = instrument('memory', memory, 'this process (InMemCache, 5,000 entries)', L1_TTL)

  let shared: CacheStorage
  if (options.redis !== undefined) {
    const redis = new RedisCache(options.redis, { ...storeOptions('redis'), prefix: REDIS_TIER_PREFIX })
    shared = instrument('redis', redis, `${redact(config.redisUrl ?? '')} (prefix ${REDIS_TIER_PREFIX})`, SHARED_TIER_TTL)
    closers.push(() => redis.close())
  } else {
    const dir = join(config.dataDir, 'cache')
    const files = new LocalFileCache(dir, storeOptions('file'))
    shared = instrument('file', files, dir, SHARED_TIER_TTL)
    // Expired files nobody reads again are swept now and then.
    const sweep = setInterval(() => void files.cleanupExpired().catch(() => {}), 60_000)
    sweep.unref()
    closers.push(() => clearInterval(sweep))
  }

  const deep: CacheStorage[] = []
  if (config.s3 !== undefined) {
    const s3 = config.s3
    const client = new S3Client({
      region: s3.region,
      ...(s3.endpoint !== undefined ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
      // S3-compatible servers may store the aws-chunked framing of checksummed uploads inside
      // the object: only checksum when an operation requires it.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    const store = new S3Cache({ ...storeOptions('s3'), bucket: s3.bucket, prefix: s3.prefix, client, timeout: '3s' })
    deep.push(instrument('s3', store, `s3://${s3.bucket}/${s3.prefix}${s3.endpoint !== undefined ? ` at ${s3.endpoint}` : ''}`, undefined))
    closers.push(() => store.close(), () => client.destroy())
  }
  if (config.gcs !== undefined) {
    const gcs = config.gcs
    const storage = new Storage({
      retryOptions: { autoRetry: false },
      ...(gcs.endpoint !== undefined ? { apiEndpoint: gcs.endpoint } : {}),
      ...(gcs.projectId !== undefined ? { projectId: gcs.projectId } : gcs.endpoint !== undefined ? { projectId: 'acache-demo' } : {}),
    })
    const store = new GCSCache({ ...storeOptions('gcs'), bucket: gcs.bucket, prefix: gcs.prefix, storage, timeout: '3s' })
    deep.push(instrument('gcs', store, `gs://${gcs.bucket}/${gcs.prefix}${gcs.endpoint !== undefined ? ` at ${gcs.endpoint}` : ''}`, undefined))
  }

  let store: CacheStorage
  let composition: string
  if (options.redis !== undefined) {
    const bus = new RedisInvalidationBus(options.redis, { channel: `acache:invalidate:${REDIS_TIER_PREFIX}`, metrics, onError })
    closers.push(() => bus.close())
    const l2 = deep.length === 0 ? shared : ChainCache.build(shared, ...deep, { ttls: [SHARED_TIER_TTL], onError: chainErrors, name: 'demo-l2' })
    store = new HybridCache({ l1Cache: top, l1Ttl: L1_TTL, l2Cache: l2, bus, onError: chainErrors, name: 'demo-cache' })
    composition = deep.length === 0 ? 'HybridCache + Redis invalidation bus' : 'HybridCache(L1, ChainCache) + Redis invalidation bus'
  } else {
    store = ChainCache.build(top, shared, ...deep, { ttls: [L1_TTL, SHARED_TIER_TTL], onError: chainErrors, name: 'demo-cache' })
    composition = 'ChainCache'
  }

  return {
    store,
    tiers,
    composition,
    memory,
    async close() {
      for (const close of closers) {
        try {
          await close()
        } catch {
          // closing is best effort: the process is leaving
        }
      }
    },
  }
}

/**
 * Hides the password of a URL shown on the dashboard.
 *
 * @example
 * redact('redis://user:secret@host:6379') // 'redis://user:***@host:6379'
 */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}
