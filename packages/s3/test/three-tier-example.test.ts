// Runs examples/three-tier.mjs (the built packages, as a user would) against a real redis-server
// and a real s3rver, and checks what it reports for each tier.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { RedisServer } from '../../redis/test/support/redis-server.js'
import { startS3rver, type S3rverHandle } from './support/s3rver.js'

const packageDir = join(__dirname, '..')

let redis: RedisServer
let s3: S3rverHandle
beforeAll(async () => {
  ;[redis, s3] = await Promise.all([RedisServer.start(), startS3rver('three-tier')])
})
afterAll(async () => {
  await Promise.all([redis?.stop(), s3?.stop()])
})

function runExample(): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(packageDir, 'examples', 'three-tier.mjs')],
      {
        cwd: packageDir,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          REDIS_URL: redis.url,
          ACACHE_S3_ENDPOINT: s3.endpoint,
          ACACHE_S3_BUCKET: s3.bucket,
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          AWS_REGION: 'us-east-1',
        },
      },
      (error, stdout, stderr) => (error ? reject(Object.assign(error, { stdout, stderr })) : resolve({ stdout, stderr })),
    )
  })
}

test('memory → Redis → S3: one load, then a hit in each tier in turn', async () => {
  expect(existsSync(join(packageDir, 'dist', 'esm', 'index.js'))).toBe(true) // `pnpm --filter @acache/s3 build` first
  const { stdout } = await runExample()
  const lines = stdout.trim().split('\n')
  const result = JSON.parse(lines[lines.length - 1])
  expect(result.loads).toBe(1)
  expect(result.report.id).toBe('2024')
  expect(result.summary).toEqual({
    memory: { hits: 1, misses: 3 },
    redis: { hits: 1, misses: 2 },
    s3: { hits: 1, misses: 1 },
  })
  expect(lines.slice(0, 4).map((l) => l.split(' hits/')[0].trim())).toEqual([
    'A: first call (computed, written to all tiers)',
    'A: second call (memory)',
    'B: empty memory (Redis)',
    'C: empty memory, Redis lost it (S3)',
  ])
}, 90_000)
