import { runStorageSuite } from '@acache/storage-test-suite'
import type { Storage } from '@google-cloud/storage'
import { GCSCache, type GCSCacheOptions } from '../src/index.js'
import { GcsFixture } from './support/gcs-fixture.js'
import { clientFor, uniquePrefix } from './support/storage-client.js'

const BUCKET = 'suite-bucket'
let gcs: GcsFixture
let storage: Storage

beforeAll(async () => {
  gcs = await GcsFixture.start({ buckets: [BUCKET] })
  storage = clientFor(gcs)
})
afterAll(async () => {
  await gcs.close()
})

const variants: Array<[string, Partial<GCSCacheOptions>, boolean]> = [
  ['plain', {}, true],
  ['compress', { compress: true }, true],
  ['dedupeWrites', { dedupeWrites: true }, true],
  // Binary values through v8; expiry is already covered by the three above.
  ['compress + dedupeWrites + v8', { compress: true, dedupeWrites: true, serializer: 'v8' }, false],
]

for (const [label, extra, expiry] of variants) {
  runStorageSuite(
    { describe, test },
    {
      name: `GCSCache (${label})`,
      create: () => new GCSCache({ bucket: BUCKET, prefix: uniquePrefix('suite'), storage, onError: 'raise', ...extra }),
      createSibling: (store) => new GCSCache({ bucket: BUCKET, prefix: store.prefix.replace(/\/$/, '-sibling/'), storage, onError: 'raise', ...extra }),
      // TTLs are exact, but a write-then-read is up to four HTTP round trips: on a loaded machine a
      // 0.3 s TTL can run out before the "still present" checks. 1 s keeps the cases meaningful.
      capabilities: { binary: extra.serializer === 'v8', ttlResolutionSeconds: 1, expiry },
    },
  )
}
