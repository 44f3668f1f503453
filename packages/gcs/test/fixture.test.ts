import { CRC32C } from '@google-cloud/storage'
import { createHash, randomBytes } from 'node:crypto'
import { crc32c, crc32cBase64, GcsFixture } from './support/gcs-fixture.js'
import { clientFor } from './support/storage-client.js'

const BUCKET = 'fixture-bucket'
let gcs: GcsFixture

beforeAll(async () => {
  gcs = await GcsFixture.start({ buckets: [BUCKET] })
})
afterAll(async () => {
  await gcs.close()
})

describe('crc32c', () => {
  test('matches the CRC-32C check value and the client library on random inputs', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32c(new Uint8Array(0))).toBe(0)
    for (const size of [1, 7, 64, 1000, 65_537]) {
      const bytes = randomBytes(size)
      const theirs = new CRC32C()
      theirs.update(bytes)
      expect(crc32cBase64(bytes)).toBe(theirs.toString())
    }
  })
})

describe('GCS fixture driven by the real client', () => {
  test('multipart upload, metadata, download, with correct hashes and generations', async () => {
    const file = clientFor(gcs).bucket(BUCKET).file('dir/a b%2F?#é')
    const data = randomBytes(5000)
    await file.save(data, { resumable: false, metadata: { metadata: { k: 'v' } } })
    const stored = gcs.object(BUCKET, 'dir/a b%2F?#é')!
    expect(stored.data.equals(data)).toBe(true)
    expect(stored.md5Hash).toBe(createHash('md5').update(data).digest('base64'))
    const [meta] = await file.getMetadata()
    expect(meta.metadata).toEqual({ k: 'v' })
    expect(meta.metageneration).toBe('1')
    expect(meta.size).toBe('5000')
    const [downloaded] = await file.download()
    expect(downloaded.equals(data)).toBe(true)
    await file.save(Buffer.from('x'), { resumable: false })
    const [meta2] = await file.getMetadata()
    expect(BigInt(meta2.generation!)).toBeGreaterThan(BigInt(meta.generation!))
  })

  test('resumable upload (single request and chunked)', async () => {
    const bucket = clientFor(gcs).bucket(BUCKET)
    const small = randomBytes(3000)
    await bucket.file('resumable/one').save(small, { resumable: true, metadata: { metadata: { r: '1' } } })
    expect(gcs.object(BUCKET, 'resumable/one')!.data.equals(small)).toBe(true)
    expect(gcs.object(BUCKET, 'resumable/one')!.metadata).toEqual({ r: '1' })
    const big = randomBytes(600 * 1024)
    await bucket.file('resumable/chunked').save(big, { resumable: true, chunkSize: 256 * 1024 })
    const [downloaded] = await bucket.file('resumable/chunked').download()
    expect(downloaded.equals(big)).toBe(true)
    expect(gcs.requests.filter((r) => r.kind === 'resumable-put').length).toBeGreaterThanOrEqual(4)
  })

  test('preconditions: ifGenerationMatch 0, generation and metageneration matches → 412', async () => {
    const file = clientFor(gcs).bucket(BUCKET).file('pre/x')
    await file.save('one', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })
    await expect(file.save('two', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })).rejects.toMatchObject({ code: 412 })
    const [meta] = await file.getMetadata()
    await file.setMetadata({ metadata: { a: '1' } }, { ifMetagenerationMatch: meta.metageneration })
    await expect(file.setMetadata({ metadata: { a: '2' } }, { ifMetagenerationMatch: meta.metageneration })).rejects.toMatchObject({ code: 412 })
    const [after] = await file.getMetadata()
    expect(after.generation).toBe(meta.generation) // metadata-only change keeps the generation
    expect(after.metageneration).toBe('2')
    expect(after.metadata).toEqual({ a: '1' })
    await file.setMetadata({ metadata: { a: null, b: 'x' } })
    expect(gcs.object(BUCKET, 'pre/x')!.metadata).toEqual({ b: 'x' })
    await expect(file.delete({ ifGenerationMatch: 1 })).rejects.toMatchObject({ code: 412 })
    await file.delete({ ifGenerationMatch: meta.generation })
    expect(gcs.object(BUCKET, 'pre/x')).toBeUndefined()
    await expect(file.download()).rejects.toMatchObject({ code: 404 })
    const [exists] = await file.exists()
    expect(exists).toBe(false)
  })

  test('list: prefix, delimiter and pagination in byte order', async () => {
    const bucket = clientFor(gcs).bucket(BUCKET)
    const names = ['list/b', 'list/a', 'list/é', 'list/sub/1', 'list/sub/2', 'listx']
    for (const name of names) await bucket.file(name).save('v', { resumable: false })
    const [page1, next] = await bucket.getFiles({ prefix: 'list/', autoPaginate: false, maxResults: 2 })
    expect(page1.map((f) => f.name)).toEqual(['list/a', 'list/b'])
    const [page2] = await bucket.getFiles({ ...(next as object), autoPaginate: false })
    expect(page2.map((f) => f.name)).toEqual(['list/sub/1', 'list/sub/2'])
    const [all] = await bucket.getFiles({ prefix: 'list/' })
    expect(all.map((f) => f.name)).toEqual(['list/a', 'list/b', 'list/sub/1', 'list/sub/2', 'list/é'])
    const [, , response] = await bucket.getFiles({ prefix: 'list/', delimiter: '/', autoPaginate: false })
    expect((response as { prefixes: string[] }).prefixes).toEqual(['list/sub/'])
  })

  test('names longer than 1024 bytes and names with line feeds are refused (400)', async () => {
    const bucket = clientFor(gcs).bucket(BUCKET)
    await expect(bucket.file('x'.repeat(1025)).save('v', { resumable: false })).rejects.toMatchObject({ code: 400 })
    await expect(bucket.file('a\nb').save('v', { resumable: false })).rejects.toMatchObject({ code: 400 })
    await bucket.file('é'.repeat(512)).save('v', { resumable: false }) // exactly 1024 bytes
  })

  test('failWith answers 500; stop refuses connections; restart keeps the data', async () => {
    const file = clientFor(gcs).bucket(BUCKET).file('fault/x')
    await file.save('kept', { resumable: false })
    gcs.failWith(500)
    await expect(file.getMetadata()).rejects.toMatchObject({ code: 500 })
    gcs.failWith(undefined)
    await gcs.stop()
    await expect(file.getMetadata()).rejects.toThrow(/ECONNREFUSED/)
    await gcs.restart()
    const [data] = await file.download()
    expect(data.toString()).toBe('kept')
  })
})
