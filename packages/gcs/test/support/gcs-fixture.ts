/**
 * TEST FIXTURE — a stand-in for Google Cloud Storage, because no GCS emulator exists on this
 * machine. It is NOT GCS: it implements, over node:http on a loopback port, the subset of the
 * JSON API that `@google-cloud/storage` 7.x calls for object work, faithfully enough that the
 * real client runs against it unmodified (`new Storage({ apiEndpoint, projectId })`):
 *
 * - uploads: `POST /upload/storage/v1/b/{bucket}/o` with `uploadType=multipart` (multipart/related:
 *   JSON metadata, then media), `uploadType=media`, and `uploadType=resumable` (session URI in
 *   `Location`, then `PUT`s with `Content-Range`, 308 + `Range` while incomplete);
 * - `GET …/o/{object}` (resource) and `?alt=media` (body, with `x-goog-hash`,
 *   `x-goog-generation`, `x-goog-metageneration`, `x-goog-stored-content-encoding`);
 * - `PATCH …/o/{object}` (metadata merge: a `null` custom value deletes the key; bumps the
 *   metageneration), `DELETE …/o/{object}`;
 * - `GET …/o?prefix=&delimiter=&maxResults=&pageToken=` (lexicographic by UTF-8 bytes, ≤ 1000 a page);
 * - generations (new on every upload) and metagenerations (1 on upload, +1 on patch); the
 *   `generation` selector and the preconditions `ifGenerationMatch` (0 = must not exist),
 *   `ifGenerationNotMatch`, `ifMetagenerationMatch`, `ifMetagenerationNotMatch` → 412
 *   (304 for the NotMatch ones on reads), as GCS answers;
 * - `crc32c` (CRC-32C/Castagnoli, base64 of the big-endian u32) and `md5Hash` (base64) on every
 *   resource, and verification of client-supplied ones (→ 400);
 * - object name rules: 1–1024 UTF-8 bytes, no CR/LF (→ 400).
 *
 * Not implemented: ACLs, versioned buckets (only the live generation is kept), compose/rewrite,
 * lifecycle, auth (the client sends none to a custom endpoint). Fault injection for tests:
 * `failWith(status)` answers every request with that status, `hang()` accepts requests and never
 * answers, `stop()` closes the port (data kept) and `restart()` reopens it on the same port.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

// ------------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78
// ------------------------------------------------------------------------------------------------

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32C of `bytes` as an unsigned 32-bit integer. `crc32c('123456789') === 0xe3069283`. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** How GCS writes a CRC-32C: base64 of the big-endian 4 bytes. */
export function crc32cBase64(bytes: Uint8Array): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32c(bytes), 0)
  return out.toString('base64')
}

function md5Base64(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('base64')
}

// ------------------------------------------------------------------------------------------------
// Model
// ------------------------------------------------------------------------------------------------

/** One live object. */
export interface FixtureObject {
  bucket: string
  name: string
  data: Buffer
  generation: bigint
  metageneration: number
  contentType: string
  contentEncoding?: string
  cacheControl?: string
  metadata: Record<string, string>
  timeCreated: string
  updated: string
  crc32c: string
  md5Hash: string
}

interface ResumableSession {
  bucket: string
  name: string
  resource: Record<string, unknown>
  query: URLSearchParams
  received: Buffer[]
  bytes: number
  done?: FixtureObject
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason = 'invalid',
  ) {
    super(message)
  }
}

/** Counts of requests by kind, for tests that prove a request did or did not happen. */
export interface RequestLogEntry {
  method: string
  kind: 'upload' | 'resumable-put' | 'media' | 'metadata' | 'patch' | 'delete' | 'list' | 'bucket' | 'other'
  name?: string
  query: Record<string, string>
}

/**
 * The fixture server (see the file header). Start one per test file; `close()` it in `afterAll`.
 *
 * @example
 * ```ts
 * const gcs = await GcsFixture.start({ buckets: ['test-bucket'] })
 * const storage = new Storage({ apiEndpoint: gcs.endpoint, projectId: 'test', retryOptions: { autoRetry: false } })
 * // …
 * await gcs.close()
 * ```
 */
export class GcsFixture {
  readonly buckets = new Map<string, Map<string, FixtureObject>>()
  readonly requests: RequestLogEntry[] = []
  private readonly sessions = new Map<string, ResumableSession>()
  private readonly sockets = new Set<Socket>()
  private server: Server | undefined
  private nextGeneration = BigInt(Date.now()) * 1000n
  private failStatus: number | undefined
  private hanging = false
  private inFlight = 0
  /** The most requests handled at once since the last `resetStats()`. */
  maxInFlight = 0
  /**
   * Called before a request is handled (after its body arrived), for tests that must interleave a
   * competing change at an exact point of a client's sequence.
   */
  beforeRequest: ((request: RequestLogEntry) => void | Promise<void>) | undefined
  port = 0

  private constructor() {}

  /** Starts on a free loopback port (or `port`) with the given (empty) buckets. */
  static async start(options: { buckets?: string[]; port?: number } = {}): Promise<GcsFixture> {
    const fixture = new GcsFixture()
    for (const name of options.buckets ?? []) fixture.createBucket(name)
    await fixture.listen(options.port ?? 0)
    return fixture
  }

  /** `http://127.0.0.1:PORT`, for `new Storage({ apiEndpoint })`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Clears the request log and `maxInFlight`. */
  resetStats(): void {
    this.requests.length = 0
    this.maxInFlight = 0
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map())
  }

  /** The live object `name` in `bucket`, if any. */
  object(bucket: string, name: string): FixtureObject | undefined {
    return this.buckets.get(bucket)?.get(name)
  }

  /** Every live object name in `bucket`, sorted. */
  names(bucket: string): string[] {
    return sortNames([...(this.buckets.get(bucket)?.keys() ?? [])])
  }

  /** Answer every request with `status` (a GCS-shaped error body) until `failWith(undefined)`. */
  failWith(status: number | undefined): void {
    this.failStatus = status
  }

  /** Accept requests and never answer them, until `hang(false)` (hung requests are then destroyed). */
  hang(on = true): void {
    this.hanging = on
    if (!on) this.destroySockets()
  }

  /** Closes the port (refusing connections, dropping open ones). Data is kept for `restart()`. */
  async stop(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    this.destroySockets()
    await closed
  }

  /** Reopens the same port after `stop()`. */
  async restart(): Promise<void> {
    if (this.server === undefined) await this.listen(this.port)
  }

  /** Stops for good. */
  async close(): Promise<void> {
    this.hanging = false
    await this.stop()
  }

  private destroySockets(): void {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      this.inFlight += 1
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
      let counted = true
      const done = (): void => {
        if (counted) this.inFlight -= 1
        counted = false
      }
      res.on('finish', done)
      res.on('close', done)
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, `fixture error: ${(error as Error).message}`, 'backendError')
        else res.destroy()
      })
    })
    server.keepAliveTimeout = 1000
    server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        this.port = (server.address() as AddressInfo).port
        resolve()
      })
    })
  }

  // ----------------------------------------------------------------------------------------------
  // Routing
  // ----------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    if (this.hanging) return // never answered; destroyed by hang(false) / stop()
    // req.url is raw: object names stay percent-encoded until split out of the path.
    const url = new URL(req.url ?? '/', 'http://fixture')
    const method = req.method ?? 'GET'
    const path = url.pathname
    const query = url.searchParams
    const entry: RequestLogEntry = { method, kind: 'other', query: Object.fromEntries(query) }
    this.requests.push(entry)
    entry.kind = kindOf(method, path, query)
    const objectPath = /^\/(?:download\/)?storage\/v1\/b\/[^/]+\/o\/(.+)$/.exec(path)
    entry.name = objectPath ? decodeURIComponent(objectPath[1]) : (query.get('name') ?? undefined)
    if (this.beforeRequest !== undefined) await this.beforeRequest(entry)
    if (this.failStatus !== undefined) {
      sendError(res, this.failStatus, 'fixture told to fail', 'backendError')
      return
    }
    try {
      let m: RegExpExecArray | null
      if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
        const bucket = this.bucketOf(m[1])
        if (method === 'POST') {
          return this.startUpload(req, res, bucket, query, body, entry)
        }
        if (method === 'PUT') {
          return this.resumablePut(req, res, query, body)
        }
      } else if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path))) {
        const bucket = this.bucketOf(m[1])
        const name = decodeURIComponent(m[2])
        if (method === 'GET' && query.get('alt') === 'media') {
          return this.download(res, bucket, name, query)
        }
        if (method === 'GET') {
          const object = this.readable(bucket, name, query)
          return sendJson(res, 200, objectResource(object))
        }
        if (method === 'PATCH' || method === 'PUT') {
          return this.patch(res, bucket, name, query, body)
        }
        if (method === 'DELETE') {
          const object = this.current(bucket, name, query)
          checkPreconditions(object, query, 'write')
          this.buckets.get(bucket)!.delete(name)
          res.writeHead(204).end()
          return
        }
      } else if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)) && method === 'GET') {
        return this.list(res, this.bucketOf(m[1]), query)
      } else if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path)) && method === 'GET') {
        const bucket = this.bucketOf(m[1])
        return sendJson(res, 200, { kind: 'storage#bucket', id: bucket, name: bucket, metageneration: '1', location: 'US', storageClass: 'STANDARD' })
      }
      throw new HttpError(404, `fixture: no route for ${method} ${path}`, 'notFound')
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.status === 304) res.writeHead(304).end()
        else sendError(res, error.status, error.message, error.reason)
        return
      }
      throw error
    }
  }

  private bucketOf(encoded: string): string {
    const bucket = decodeURIComponent(encoded)
    if (!this.buckets.has(bucket)) throw new HttpError(404, 'The specified bucket does not exist.', 'notFound')
    return bucket
  }

  /** The live object, or 404; a `generation` selector must name the live generation. */
  private current(bucket: string, name: string, query: URLSearchParams): FixtureObject {
    const object = this.buckets.get(bucket)!.get(name)
    const generation = query.get('generation')
    if (object === undefined || (generation !== null && BigInt(generation) !== object.generation)) {
      throw new HttpError(404, `No such object: ${bucket}/${name}`, 'notFound')
    }
    return object
  }

  private readable(bucket: string, name: string, query: URLSearchParams): FixtureObject {
    const object = this.current(bucket, name, query)
    checkPreconditions(object, query, 'read')
    return object
  }

  private download(res: ServerResponse, bucket: string, name: string, query: URLSearchParams): void {
    const object = this.readable(bucket, name, query)
    res.writeHead(200, {
      'Content-Type': object.contentType,
      'Content-Length': object.data.length,
      'x-goog-hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
      'x-goog-generation': object.generation.toString(),
      'x-goog-metageneration': String(object.metageneration),
      'x-goog-stored-content-encoding': object.contentEncoding ?? 'identity',
      'x-goog-stored-content-length': String(object.data.length),
      ETag: etag(object),
    })
    res.end(object.data)
  }

  // ----------------------------------------------------------------------------------------------
  // Uploads
  // ----------------------------------------------------------------------------------------------

  private startUpload(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    query: URLSearchParams,
    body: Buffer,
    entry: RequestLogEntry,
  ): void {
    const uploadType = query.get('uploadType')
    if (uploadType === 'multipart') {
      const contentType = req.headers['content-type'] ?? ''
      const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
      if (!/^multipart\/related/i.test(contentType) || boundary === undefined) {
        throw new HttpError(400, 'multipart upload needs Content-Type multipart/related with a boundary')
      }
      const parts = parseMultipart(body, boundary)
      if (parts.length !== 2) throw new HttpError(400, `multipart upload needs 2 parts, got ${parts.length}`)
      const resource = parseJson(parts[0].body)
      const name = query.get('name') ?? (typeof resource.name === 'string' ? resource.name : undefined)
      entry.name = name
      const media = parts[1]
      const object = this.insert(bucket, name, resource, media.body, query, media.headers['content-type'])
      return sendJson(res, 200, objectResource(object))
    }
    if (uploadType === 'media') {
      const name = query.get('name') ?? undefined
      entry.name = name
      const object = this.insert(bucket, name, {}, body, query, req.headers['content-type'])
      return sendJson(res, 200, objectResource(object))
    }
    if (uploadType === 'resumable') {
      const resource = body.length > 0 ? parseJson(body) : {}
      const name = query.get('name') ?? (typeof resource.name === 'string' ? resource.name : undefined)
      entry.name = name
      checkName(name)
      const contentType = req.headers['x-upload-content-type']
      if (typeof contentType === 'string' && resource.contentType === undefined) resource.contentType = contentType
      // Preconditions are checked when the upload completes, as GCS does.
      const id = randomUUID()
      this.sessions.set(id, { bucket, name: name!, resource, query, received: [], bytes: 0 })
      res.writeHead(200, { Location: `${this.endpoint}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}` })
      res.end()
      return
    }
    throw new HttpError(400, `unsupported uploadType ${String(uploadType)}`)
  }

  private resumablePut(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, body: Buffer): void {
    const session = this.sessions.get(query.get('upload_id') ?? '')
    if (session === undefined) throw new HttpError(404, 'No such upload session', 'notFound')
    if (session.done !== undefined) return sendJson(res, 200, objectResource(session.done))
    const range = String(req.headers['content-range'] ?? '')
    // "bytes */TOTAL" (status query), "bytes A-B/TOTAL|*", or the client's single-shot "bytes A-*/TOTAL".
    const status = /^bytes \*\/(\d+|\*)$/.exec(range)
    const chunk = /^bytes (\d+)-(\d+|\*)\/(\d+|\*|undefined)$/.exec(range)
    if (status === null && chunk === null) throw new HttpError(400, `bad Content-Range ${JSON.stringify(range)}`)
    let total: number | undefined
    if (chunk !== null) {
      const start = Number(chunk[1])
      if (start !== session.bytes) throw new HttpError(400, `chunk starts at ${start}, expected ${session.bytes}`)
      if (chunk[2] !== '*' && Number(chunk[2]) - start + 1 !== body.length) throw new HttpError(400, 'chunk length does not match Content-Range')
      session.received.push(body)
      session.bytes += body.length
      total = /^\d+$/.test(chunk[3]) ? Number(chunk[3]) : chunk[2] === '*' ? session.bytes : undefined
    } else if (/^\d+$/.test(status![1])) {
      total = Number(status![1])
    }
    if (total === undefined || session.bytes < total) {
      const headers: Record<string, string> = {}
      if (session.bytes > 0) headers.Range = `bytes=0-${session.bytes - 1}`
      res.writeHead(308, headers).end()
      return
    }
    const data = Buffer.concat(session.received)
    const hashes = parseGoogHash(req.headers['x-goog-hash'])
    if (hashes.crc32c !== undefined && hashes.crc32c !== crc32cBase64(data)) throw new HttpError(400, 'x-goog-hash crc32c does not match the data')
    if (hashes.md5 !== undefined && hashes.md5 !== md5Base64(data)) throw new HttpError(400, 'x-goog-hash md5 does not match the data')
    const object = this.insert(session.bucket, session.name, session.resource, data, session.query, undefined)
    session.done = object
    sendJson(res, 200, objectResource(object))
  }

  /** Creates a new generation of `name`, after the preconditions and checksums hold. */
  private insert(
    bucket: string,
    name: string | undefined,
    resource: Record<string, unknown>,
    data: Buffer,
    query: URLSearchParams,
    mediaType: string | undefined,
  ): FixtureObject {
    checkName(name)
    const existing = this.buckets.get(bucket)!.get(name!)
    checkPreconditions(existing, query, 'write')
    const crc = crc32cBase64(data)
    const md5 = md5Base64(data)
    if (typeof resource.crc32c === 'string' && resource.crc32c !== crc) throw new HttpError(400, 'Provided CRC32C "' + resource.crc32c + '" doesn\'t match calculated CRC32C "' + crc + '".')
    if (typeof resource.md5Hash === 'string' && resource.md5Hash !== md5) throw new HttpError(400, 'Provided MD5 hash "' + resource.md5Hash + '" doesn\'t match calculated MD5 hash "' + md5 + '".')
    const now = new Date().toISOString()
    const object: FixtureObject = {
      bucket,
      name: name!,
      data,
      generation: this.nextGeneration++,
      metageneration: 1,
      contentType: typeof resource.contentType === 'string' ? resource.contentType : (mediaType ?? 'application/octet-stream'),
      contentEncoding: typeof resource.contentEncoding === 'string' ? resource.contentEncoding : undefined,
      cacheControl: typeof resource.cacheControl === 'string' ? resource.cacheControl : undefined,
      metadata: customMetadataOf(resource.metadata, {}),
      timeCreated: now,
      updated: now,
      crc32c: crc,
      md5Hash: md5,
    }
    this.buckets.get(bucket)!.set(object.name, object)
    return object
  }

  private patch(res: ServerResponse, bucket: string, name: string, query: URLSearchParams, body: Buffer): void {
    const object = this.current(bucket, name, query)
    checkPreconditions(object, query, 'write')
    const patch = body.length > 0 ? parseJson(body) : {}
    if ('metadata' in patch) object.metadata = customMetadataOf(patch.metadata, object.metadata)
    if (typeof patch.contentType === 'string') object.contentType = patch.contentType
    if (typeof patch.cacheControl === 'string') object.cacheControl = patch.cacheControl
    if (typeof patch.contentEncoding === 'string') object.contentEncoding = patch.contentEncoding
    object.metageneration += 1
    object.updated = new Date().toISOString()
    sendJson(res, 200, objectResource(object))
  }

  // ----------------------------------------------------------------------------------------------
  // Listing
  // ----------------------------------------------------------------------------------------------

  private list(res: ServerResponse, bucket: string, query: URLSearchParams): void {
    const prefix = query.get('prefix') ?? ''
    const delimiter = query.get('delimiter') ?? ''
    const maxResults = Math.min(1000, Math.max(1, Number(query.get('maxResults') ?? 1000) || 1000))
    const after = query.has('pageToken') ? Buffer.from(query.get('pageToken')!, 'base64url').toString('utf8') : undefined
    const names = sortNames([...this.buckets.get(bucket)!.keys()].filter((n) => n.startsWith(prefix)))
    const items: Record<string, unknown>[] = []
    const prefixes = new Set<string>()
    let nextPageToken: string | undefined
    for (const name of names) {
      if (after !== undefined && compareNames(name, after) <= 0) continue
      if (items.length + prefixes.size >= maxResults) {
        nextPageToken = Buffer.from(lastOf(items, prefixes), 'utf8').toString('base64url')
        break
      }
      const rest = name.slice(prefix.length)
      const cut = delimiter === '' ? -1 : rest.indexOf(delimiter)
      if (cut >= 0) prefixes.add(prefix + rest.slice(0, cut + delimiter.length))
      else items.push(objectResource(this.buckets.get(bucket)!.get(name)!))
    }
    const reply: Record<string, unknown> = { kind: 'storage#objects' }
    if (items.length > 0) reply.items = items
    if (prefixes.size > 0) reply.prefixes = [...prefixes]
    if (nextPageToken !== undefined) reply.nextPageToken = nextPageToken
    sendJson(res, 200, reply)
  }
}

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

function kindOf(method: string, path: string, query: URLSearchParams): RequestLogEntry['kind'] {
  if (path.startsWith('/upload/')) return method === 'PUT' ? 'resumable-put' : 'upload'
  if (/\/o\/.+$/.test(path)) {
    if (method === 'GET') return query.get('alt') === 'media' ? 'media' : 'metadata'
    if (method === 'PATCH' || method === 'PUT') return 'patch'
    if (method === 'DELETE') return 'delete'
  }
  if (/\/o$/.test(path) && method === 'GET') return 'list'
  if (method === 'GET') return 'bucket'
  return 'other'
}

function lastOf(items: Record<string, unknown>[], prefixes: Set<string>): string {
  const candidates = [...prefixes]
  if (items.length > 0) candidates.push(items[items.length - 1].name as string)
  return sortNames(candidates).pop()!
}

/** GCS lists names in lexicographic order of their UTF-8 bytes. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function sortNames(names: string[]): string[] {
  return names.sort(compareNames)
}

function checkName(name: string | undefined): void {
  if (name === undefined || name === '') throw new HttpError(400, 'Required: object name', 'required')
  if (Buffer.byteLength(name, 'utf8') > 1024) throw new HttpError(400, 'The maximum object length is 1024 characters, but got a name with more.')
  if (name.includes('\r') || name.includes('\n')) throw new HttpError(400, 'Object names cannot contain carriage return or line feed characters.')
  if (name === '.' || name === '..') throw new HttpError(400, 'Object names cannot be "." or "..".')
}

function checkPreconditions(object: FixtureObject | undefined, query: URLSearchParams, mode: 'read' | 'write'): void {
  const generation = object?.generation ?? 0n
  const ifGenerationMatch = query.get('ifGenerationMatch')
  if (ifGenerationMatch !== null && BigInt(ifGenerationMatch) !== generation) throw preconditionFailed()
  const ifGenerationNotMatch = query.get('ifGenerationNotMatch')
  if (ifGenerationNotMatch !== null && BigInt(ifGenerationNotMatch) === generation) throw notModifiedOr412(mode)
  const ifMetagenerationMatch = query.get('ifMetagenerationMatch')
  if (ifMetagenerationMatch !== null && (object === undefined || Number(ifMetagenerationMatch) !== object.metageneration)) {
    throw preconditionFailed()
  }
  const ifMetagenerationNotMatch = query.get('ifMetagenerationNotMatch')
  if (ifMetagenerationNotMatch !== null && object !== undefined && Number(ifMetagenerationNotMatch) === object.metageneration) {
    throw notModifiedOr412(mode)
  }
}

function preconditionFailed(): HttpError {
  return new HttpError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet')
}

function notModifiedOr412(mode: 'read' | 'write'): HttpError {
  return mode === 'read' ? new HttpError(304, 'Not Modified', 'notModified') : preconditionFailed()
}

/** Merges custom metadata as GCS does: values become strings, `null` deletes a key, `null` as a whole clears. */
function customMetadataOf(patch: unknown, base: Record<string, string>): Record<string, string> {
  if (patch === null) return {}
  if (patch === undefined || typeof patch !== 'object' || Array.isArray(patch)) {
    if (patch === undefined) return { ...base }
    throw new HttpError(400, 'metadata must be an object')
  }
  const merged = { ...base }
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete merged[key]
    else merged[key] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  return merged
}

function etag(object: FixtureObject): string {
  return Buffer.from(`${object.generation}/${object.metageneration}`).toString('base64')
}

/** The JSON resource of an object, as `objects.get` returns it. */
function objectResource(object: FixtureObject): Record<string, unknown> {
  const id = `${object.bucket}/${object.name}/${object.generation}`
  const encoded = encodeURIComponent(object.name)
  const json: Record<string, unknown> = {
    kind: 'storage#object',
    id,
    selfLink: `https://www.googleapis.com/storage/v1/b/${object.bucket}/o/${encoded}`,
    mediaLink: `https://storage.googleapis.com/download/storage/v1/b/${object.bucket}/o/${encoded}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation.toString(),
    metageneration: String(object.metageneration),
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.data.length),
    md5Hash: object.md5Hash,
    crc32c: object.crc32c,
    etag: etag(object),
    timeCreated: object.timeCreated,
    updated: object.updated,
    timeStorageClassUpdated: object.timeCreated,
  }
  if (object.contentEncoding !== undefined) json.contentEncoding = object.contentEncoding
  if (object.cacheControl !== undefined) json.cacheControl = object.cacheControl
  if (Object.keys(object.metadata).length > 0) json.metadata = { ...object.metadata }
  return json
}


interface Part {
  headers: Record<string, string>
  body: Buffer
}

/** Splits a multipart/related body (RFC 2046) into its parts. */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`)
  const next = Buffer.from(`\r\n--${boundary}`)
  const parts: Part[] = []
  let pos = body.indexOf(delimiter)
  if (pos < 0) throw new HttpError(400, 'multipart body has no boundary')
  pos += delimiter.length
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts // "--": the closing delimiter
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2
    const end = body.indexOf(next, pos)
    if (end < 0) throw new HttpError(400, 'multipart body is truncated')
    const part = body.subarray(pos, end)
    const split = part.indexOf('\r\n\r\n')
    if (split < 0) throw new HttpError(400, 'multipart part has no header block')
    const headers: Record<string, string> = {}
    for (const line of part.subarray(0, split).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    parts.push({ headers, body: Buffer.from(part.subarray(split + 4)) })
    pos = end + next.length
  }
}

function parseGoogHash(header: string | string[] | undefined): { crc32c?: string; md5?: string } {
  const out: { crc32c?: string; md5?: string } = {}
  for (const value of ([] as string[]).concat(header ?? [])) {
    for (const pair of value.split(',')) {
      const eq = pair.indexOf('=')
      const kind = pair.slice(0, eq).trim()
      if (kind === 'crc32c' || kind === 'md5') out[kind] = pair.slice(eq + 1).trim()
    }
  }
  return out
}

function parseJson(bytes: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'))
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // fall through
  }
  throw new HttpError(400, 'request body is not a JSON object', 'parseError')
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function sendError(res: ServerResponse, status: number, message: string, reason: string): void {
  sendJson(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } })
}
