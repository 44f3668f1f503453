// Three tiers: process memory → Redis → S3, each wrapped in InstrumentedStorage so the hits and
// misses of every tier are counted. Three "processes" read the same report:
//   A computes it (all tiers miss) and reads it again (memory hit);
//   B starts with empty memory (Redis hit, promoted to memory);
//   C starts with empty memory after Redis lost the key (S3 hit, promoted to Redis and memory).
//
// Run (after `pnpm --filter @acache/s3... build`):
//   REDIS_URL=redis://127.0.0.1:6379 ACACHE_S3_BUCKET=my-bucket node examples/three-tier.mjs
// Against a local S3-compatible server (s3rver, MinIO) also set ACACHE_S3_ENDPOINT=http://127.0.0.1:PORT
// (path-style addressing; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
import { S3Client } from '@aws-sdk/client-s3'
import { cache, ChainCache, InMemCache, InMemoryMetrics, InstrumentedStorage } from '@acache/core'
import { RedisCache } from '@acache/redis'
import { S3Cache } from '@acache/s3'
import { createClient } from 'redis'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const bucket = process.env.ACACHE_S3_BUCKET ?? 'acache-example'
const endpoint = process.env.ACACHE_S3_ENDPOINT
const run = `${process.pid}-${Date.now()}` // keys of this run only

const s3 = endpoint
  ? new S3Client({
      endpoint,
      region: process.env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
  : new S3Client({})
const redis = createClient({ url: redisUrl })
redis.on('error', (error) => console.error('redis:', error.message)) // a reconnecting client needs a listener
await redis.connect()

const metrics = new InMemoryMetrics()
const redisStore = new RedisCache(redis, { prefix: `three-tier:${run}:` })
const s3Store = new S3Cache({ bucket, prefix: `three-tier/${run}/`, client: s3 })

/** One "process": its own memory tier in front of the shared Redis and S3 tiers. */
function tiers() {
  return ChainCache.build(
    new InstrumentedStorage(new InMemCache({ maxSize: 1000 }), metrics, 'memory'),
    new InstrumentedStorage(redisStore, metrics, 'redis'),
    new InstrumentedStorage(s3Store, metrics, 's3'),
    { ttls: [60, '1h'] }, // memory ≤ 1 min, Redis ≤ 1 h, S3 as long as the entry lives
  )
}

let loads = 0
const reportOf = (store) =>
  cache(3600, { store, key: 'report:{id}' })(async (id) => {
    loads++
    return { id, rows: Array.from({ length: 3 }, (_, i) => ({ day: i + 1, total: (i + 1) * 100 })) }
  })

function line(label) {
  const { caches } = metrics.getStats()
  const cell = (name) => `${name} ${caches[name]?.hits ?? 0}/${caches[name]?.misses ?? 0}`
  console.log(`${label.padEnd(44)} hits/misses: ${cell('memory')}  ${cell('redis')}  ${cell('s3')}  loads ${loads}`)
}

try {
  const processA = reportOf(tiers())
  await processA('2024')
  line('A: first call (computed, written to all tiers)')
  await processA('2024')
  line('A: second call (memory)')

  const processB = reportOf(tiers())
  await processB('2024')
  line('B: empty memory (Redis)')

  await redisStore.delete('report:2024')
  const processC = reportOf(tiers())
  const report = await processC('2024')
  line('C: empty memory, Redis lost it (S3)')

  const { caches } = metrics.getStats()
  const summary = Object.fromEntries(
    ['memory', 'redis', 's3'].map((name) => [name, { hits: caches[name]?.hits ?? 0, misses: caches[name]?.misses ?? 0 }]),
  )
  console.log(JSON.stringify({ summary, loads, report }))
} finally {
  await s3Store.clear()
  await redisStore.clear()
  await redis.close()
  s3.destroy()
}
