// The storage conformance suite against a real s3rver (child process, loopback, free port).
import { runStorageSuite } from '@acache/storage-test-suite'
import { S3Cache, type S3CacheOptions } from '../src/index.js'
import { startS3rver, type S3rverHandle } from './support/s3rver.js'

let server: S3rverHandle
beforeAll(async () => {
  server = await startS3rver()
})
afterAll(async () => {
  await server?.stop()
})

let run = 0
const variants: Array<[string, Partial<S3CacheOptions>]> = [
  ['plain', {}],
  ['compress', { compress: true }],
  ['dedupeWrites', { dedupeWrites: true }],
]
for (const [label, options] of variants) {
  const make = (prefix: string): S3Cache =>
    new S3Cache({ bucket: server.bucket, prefix, client: server.client(), onError: 'raise', ...options })
  runStorageSuite(
    { describe, test },
    {
      name: `S3Cache (${label})`,
      create: () => make(`suite-${label}-${++run}/a/`),
      createSibling: (store) => make((store as S3Cache).prefix.replace(/a\/$/, 'b/')),
      // The concurrent setIfNotExists race runs: the test server enforces S3's conditional writes
      // (see support/s3rver-process.cjs).
      // A 1 s TTL in the expiry cases: a write and a read each cross HTTP to a server in another
      // process, which on a loaded CI machine can take longer than the suite's default 0.3 s.
      capabilities: { binary: false, ttlResolutionSeconds: 1 },
    },
  )
}
