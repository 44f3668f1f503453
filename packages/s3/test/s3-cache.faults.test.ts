// Failures: a server that dies mid-run, a closed port, a server that never answers, and corrupt
// objects. All against real servers/sockets on loopback.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { createServer, type Server, type Socket } from 'node:net'
import { encodeEntry, serializers, type ErrorInfo } from '@acache/core'
import { S3Cache } from '../src/index.js'
import { localClient, startS3rver, type S3rverHandle } from './support/s3rver.js'

type Report = { error: unknown; info: ErrorInfo }
const collector = (): { reports: Report[]; onError: (error: unknown, info: ErrorInfo) => void } => {
  const reports: Report[] = []
  return { reports, onError: (error, info) => reports.push({ error, info }) }
}

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

describe('a server stopped mid-run', () => {
  let server: S3rverHandle
  let client: S3Client
  beforeAll(async () => {
    server = await startS3rver()
    client = server.client()
  })
  afterAll(async () => {
    await server?.stop()
  })

  test('reads are misses and writes are skipped, each failure reported; raise rethrows', async () => {
    const { reports, onError } = collector()
    const s = new S3Cache({ bucket: server.bucket, prefix: 'dies/', client, onError, timeout: 3 })
    const raising = new S3Cache({ bucket: server.bucket, prefix: 'dies/', client, onError: 'raise', timeout: 3 })
    await s.set('k', 'v', 0)
    expect(await s.get('k')).toBe('v')

    await server.stop()

    expect(await s.get('k')).toBeUndefined()
    expect(await s.getEntry('k')).toBeUndefined()
    expect(await s.exists('k')).toBe(false)
    expect(await s.getMany(['k', 'j'])).toEqual(new Map())
    await expect(s.set('k', 'w', 0)).resolves.toBeUndefined()
    await expect(s.setMany({ a: 1, b: 2 }, 0)).resolves.toBeUndefined()
    expect(await s.setIfNotExists('n', 1, 0)).toBe(false)
    await expect(s.delete('k')).resolves.toBeUndefined()
    await expect(s.clear()).resolves.toBeUndefined()
    expect(reports.map((r) => r.info.operation)).toEqual([
      'get',
      'getEntry',
      'exists',
      'getMany',
      'set',
      'setMany',
      'setIfNotExists',
      'delete',
      'clear',
    ])
    expect(reports[0].info).toEqual({ cacheName: 'S3Cache', key: 'k', operation: 'get' })
    for (const r of reports) expect(r.error).toBeInstanceOf(Error)

    await expect(raising.get('k')).rejects.toBeInstanceOf(Error)
    await expect(raising.set('k', 1, 0)).rejects.toBeInstanceOf(Error)
    await expect(raising.getMany(['k'])).rejects.toBeInstanceOf(Error)
    await expect(raising.setIfNotExists('k', 1, 0)).rejects.toBeInstanceOf(Error)
  })
})

describe('deadlines', () => {
  test('a closed port answers within the deadline (a miss plus a reported error)', async () => {
    const port = await freePort()
    const client = localClient(`http://127.0.0.1:${port}`)
    const { reports, onError } = collector()
    const s = new S3Cache({ bucket: 'b', prefix: 'p/', client, onError, timeout: 1 })
    const started = performance.now()
    expect(await s.get('k')).toBeUndefined()
    expect(await s.getMany(Array.from({ length: 50 }, (_, i) => `k${i}`))).toEqual(new Map())
    await s.set('k', 1, 0)
    const elapsed = performance.now() - started
    // Three operations, each bounded by 1 s (connection refused usually fails much sooner).
    expect(elapsed).toBeLessThan(3 * 1000 + 1500)
    expect(reports).toHaveLength(3)
    client.destroy()
  })

  test('a server that accepts connections but never answers costs the deadline, then TimeoutError', async () => {
    const sockets = new Set<Socket>()
    const hung: Server = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => undefined)
    })
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
    const client = localClient(`http://127.0.0.1:${(hung.address() as { port: number }).port}`)
    try {
      const { reports, onError } = collector()
      const s = new S3Cache({ bucket: 'b', prefix: 'p/', client, onError, timeout: '500ms' })
      const raising = new S3Cache({ bucket: 'b', prefix: 'p/', client, onError: 'raise', timeout: '500ms' })

      let started = performance.now()
      expect(await s.get('k')).toBeUndefined()
      let elapsed = performance.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(450)
      expect(elapsed).toBeLessThan(2500)
      expect(reports).toHaveLength(1)
      expect(reports[0].error).toMatchObject({ name: 'TimeoutError' })
      expect(String((reports[0].error as Error).message)).toMatch(/get did not finish within 500 ms/)

      // A batch fails as a whole at the first deadline, not once per key.
      started = performance.now()
      expect(await s.getMany(Array.from({ length: 64 }, (_, i) => `k${i}`))).toEqual(new Map())
      elapsed = performance.now() - started
      expect(elapsed).toBeLessThan(2500)
      expect(reports).toHaveLength(2)
      expect(reports[1].info.operation).toBe('getMany')

      await expect(raising.set('k', 1, 0)).rejects.toMatchObject({ name: 'TimeoutError' })
    } finally {
      client.destroy()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => hung.close(() => resolve()))
    }
  })
})

describe('corrupt objects', () => {
  let server: S3rverHandle
  let client: S3Client
  beforeAll(async () => {
    server = await startS3rver()
    client = server.client()
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** Deterministic PRNG so a failure can be replayed. */
  function prng(seed: number): () => number {
    let x = seed >>> 0
    return () => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return (x >>> 0) / 2 ** 32
    }
  }

  function notJson(bytes: Uint8Array): boolean {
    try {
      JSON.parse(Buffer.from(bytes).toString('utf8'))
      return false
    } catch {
      return true
    }
  }

  /** 1,000 bodies that cannot be a valid entry: too short, NaN timestamps, or a payload that is not JSON. */
  function corruptPayloads(count: number): Uint8Array[] {
    const random = prng(0xacac4e)
    const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(random() * 256))
    const valid = encodeEntry({ value: { a: [1, 2, 3], s: 'text' }, freshUntil: 1e10, createdAt: 1.7e9 }, serializers.json)
    const out: Uint8Array[] = []
    while (out.length < count) {
      const kind = out.length % 4
      let body: Uint8Array
      if (kind === 0) {
        body = bytes(Math.floor(random() * 16)) // shorter than the header
      } else if (kind === 1) {
        body = valid.slice(0, 16 + Math.floor(random() * (valid.length - 17))) // truncated payload
      } else if (kind === 2) {
        body = Buffer.concat([valid.subarray(0, 16), bytes(1 + Math.floor(random() * 64))]) // random payload
      } else {
        body = valid.slice()
        new DataView(body.buffer).setFloat64(random() < 0.5 ? 0 : 8, NaN) // NaN timestamp
      }
      if (body.length < 16 || kind === 3 || notJson(body.subarray(16))) out.push(body)
    }
    return out
  }

  test('1,000 corrupt bodies written raw: every read is a miss plus a reported WireFormatError', async () => {
    const { reports, onError } = collector()
    const s = new S3Cache({ bucket: server.bucket, prefix: 'fuzz/', client, onError, concurrency: 16 })
    const payloads = corruptPayloads(1000)
    const keys = payloads.map((_, i) => `c${i}`)
    // Write them raw, 16 at a time.
    for (let i = 0; i < payloads.length; i += 16) {
      await Promise.all(
        payloads.slice(i, i + 16).map((body, j) =>
          client.send(new PutObjectCommand({ Bucket: server.bucket, Key: s.objectName(keys[i + j]), Body: body })),
        ),
      )
    }
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      for (let i = 0; i < 500; i++) expect(await s.get(keys[i])).toBeUndefined()
      // The other half through getMany: corrupt objects are misses that do not stop the batch.
      await s.set('good', 'ok', 0)
      const got = await s.getMany([...keys.slice(500), 'good'])
      expect([...got]).toEqual([['good', 'ok']])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
    expect(unhandled).toEqual([])
    expect(reports).toHaveLength(1000)
    expect(new Set(reports.map((r) => (r.error as Error).name))).toEqual(new Set(['WireFormatError']))
    expect(new Set(reports.map((r) => r.info.key))).toEqual(new Set(keys))
  }, 120_000)

  test('corrupt metadata or a corrupt gzip body is a miss plus a report; raise rethrows it', async () => {
    const { reports, onError } = collector()
    const s = new S3Cache({ bucket: server.bucket, prefix: 'meta/', client, onError })
    const raising = new S3Cache({ bucket: server.bucket, prefix: 'meta/', client, onError: 'raise' })
    const valid = encodeEntry({ value: 1, freshUntil: 1e10, createdAt: 1.7e9 }, serializers.json)
    const put = (key: string, body: Uint8Array, Metadata: Record<string, string>) =>
      client.send(new PutObjectCommand({ Bucket: server.bucket, Key: s.objectName(key), Body: body, Metadata }))
    await put('expiry', valid, { 'acache-expires-at': 'soon' })
    await put('gzip', valid, { 'acache-compression': 'gzip' })
    await put('codec', valid, { 'acache-compression': 'zstd' })
    await put('fresh', valid, { 'acache-fresh-until': 'x' })
    for (const key of ['expiry', 'gzip', 'codec', 'fresh']) expect(await s.get(key)).toBeUndefined()
    expect(reports.map((r) => (r.error as Error).name)).toEqual(['WireFormatError', 'WireFormatError', 'WireFormatError', 'WireFormatError'])
    await expect(raising.get('gzip')).rejects.toMatchObject({ name: 'WireFormatError' })
    await expect(raising.getMany(['gzip'])).rejects.toMatchObject({ name: 'WireFormatError' })
  })
})
