/**
 * With S3 and GCS configured: the chain becomes memory → file → s3 → gcs. The S3 side runs
 * against a real s3rver; the GCS side against the GCS test fixture of @acache/gcs (a stand-in
 * server that the real @google-cloud/storage client talks to — not GCS itself). Both support
 * files are reused from those packages' tests.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { GcsFixture } from '../../../packages/gcs/test/support/gcs-fixture.js'
import { startS3rver, type S3rverHandle } from '../../../packages/s3/test/support/s3rver.js'
import { get, startDemoProcess, type DemoProcess } from './support/demo-process.js'

const GCS_BUCKET = 'demo-gcs'
let s3: S3rverHandle
let s3client: S3Client
let gcs: GcsFixture
let demo: DemoProcess

beforeAll(async () => {
  s3 = await startS3rver('demo-s3')
  s3client = s3.client()
  gcs = await GcsFixture.start({ buckets: [GCS_BUCKET] })
  demo = await startDemoProcess({
    args: ['--no-writer'],
    env: {
      ACACHE_S3_BUCKET: s3.bucket,
      ACACHE_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      ACACHE_GCS_BUCKET: GCS_BUCKET,
      ACACHE_GCS_ENDPOINT: gcs.endpoint,
    },
  })
}, 60_000)

afterAll(async () => {
  await demo?.stop()
  await s3?.stop()
  await gcs?.close()
})

const stats = async () => (await get(`${demo.url}stats`)).body
const s3Has = async (name: string): Promise<boolean> => {
  try {
    await s3client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: name }))
    return true
  } catch {
    return false
  }
}

test('a write goes through every tier: file, S3 object, GCS object', async () => {
  const s = await stats()
  expect(s.setup.tiers.map((t: { kind: string }) => t.kind)).toEqual(['memory', 'file', 's3', 'gcs'])
  expect((await get(`${demo.url}api/products/9`)).status).toBe(200)
  expect(await s3Has('acache-demo/product:9')).toBe(true)
  expect(gcs.names(GCS_BUCKET)).toContain('acache-demo/product:9')
})

test('reads fall through to the deepest tier that has the entry, and never reach the upstream', async () => {
  const p11 = (await get(`${demo.url}api/products/11`)).body.data
  const p12 = (await get(`${demo.url}api/products/12`)).body.data
  // product 11: only S3 and GCS keep it; product 12: only GCS
  rmSync(join(demo.dataDir, 'cache', 'k-product%3a11.acache'))
  rmSync(join(demo.dataDir, 'cache', 'k-product%3a12.acache'))
  await s3client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'acache-demo/product:12' }))
  const before = await stats()
  await new Promise((r) => setTimeout(r, 5600)) // the L1 copies expire (5 s cap)
  expect((await get(`${demo.url}api/products/11`)).body.data).toEqual(p11)
  expect((await get(`${demo.url}api/products/12`)).body.data).toEqual(p12)
  const after = await stats()
  expect(after.upstream.endpoints.catalog.calls).toBe(before.upstream.endpoints.catalog.calls)
  expect(after.metrics.caches['tier:s3'].hits).toBe((before.metrics.caches['tier:s3']?.hits ?? 0) + 1)
  expect(after.metrics.caches['tier:gcs'].hits).toBe((before.metrics.caches['tier:gcs']?.hits ?? 0) + 1)
  // promoted back into the upper tiers
  expect(await s3Has('acache-demo/product:12')).toBe(true)
})

test('shuts down cleanly with the cloud clients open', async () => {
  expect(await demo.stop()).toBe(0)
})
