import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import {
  checkOptionKeys,
  decodeEntry,
  encodeEntry,
  forEachBounded,
  parseDuration,
  resolveSerializer,
  SerializationError,
  StoreErrorPolicy,
  WIRE_HEADER_BYTES,
  WireFormatError,
  type CacheEntry,
  type CacheStorage,
  type RemoteStoreOptions,
  type Serializer,
} from '@acache/core'
import { Storage, type Bucket, type File, type FileMetadata } from '@google-cloud/storage'
import { withDeadline } from './deadline.js'
import { objectNameFor } from './object-names.js'

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/**
 * Custom metadata keys written on every object. Values are strings (GCS custom metadata is
 * string-valued); times are epoch seconds written with `String(number)`, which round-trips an f64.
 *
 * @example
 * ```ts
 * const [meta] = await storage.bucket('b').file(store.objectName('k')).getMetadata()
 * meta.metadata?.[GCS_METADATA.expiresAt] // '1700000060.25' (absent: no expiry)
 * ```
 */
export const GCS_METADATA = Object.freeze({
  /** Physical expiry (epoch seconds). Absent = kept until deleted. */
  expiresAt: 'acache-expires-at',
  /** SHA-256 (base64) of the serialized value bytes, for `dedupeWrites`. */
  valueSha256: 'acache-value-sha256',
  /** `gzip` when the body is gzip-compressed. Absent = the body is the raw wire format. */
  compression: 'acache-compression',
  /** Set by a metadata-only refresh (`dedupeWrites`): the entry's current `freshUntil`, which wins over the body header. */
  freshUntil: 'acache-fresh-until',
  /** Set by a metadata-only refresh (`dedupeWrites`): the entry's current `createdAt`, which wins over the body header. */
  createdAt: 'acache-created-at',
})

const KNOWN_OPTIONS = [
  'bucket',
  'prefix',
  'storage',
  'serializer',
  'compress',
  'dedupeWrites',
  'onError',
  'timeout',
  'concurrency',
  'metrics',
  'logger',
  'name',
] as const

/** Default per-operation deadline, seconds. */
const DEFAULT_TIMEOUT_SECONDS = 5
/** Default number of requests `getMany` / `setMany` / `clear` keep in flight. */
const DEFAULT_CONCURRENCY = 16
/** GCS returns at most 1000 objects per list page. */
const LIST_PAGE_SIZE = 1000
/** How many times `setIfNotExists` re-evaluates after losing a precondition race. */
const SET_IF_NOT_EXISTS_ATTEMPTS = 5

/** Options of {@link GCSCache}; the shared ones (`onError`, `metrics`, `logger`, `serializer`, `name`) come from `RemoteStoreOptions`. */
export interface GCSCacheOptions extends RemoteStoreOptions {
  /** The bucket name (required). The bucket must exist. */
  bucket: string
  /**
   * Prepended to every key to form the object name (plain string prefix, e.g. `'cache/users/'`).
   * Default `''` (the whole bucket), with which `clear()` is refused.
   */
  prefix?: string
  /**
   * The client. Default: `new Storage({ retryOptions: { autoRetry: false }, timeout })` with
   * Application Default Credentials. A client you pass keeps its own retry settings: turn
   * `autoRetry` off (or bound `totalTimeout`) yourself, or its retries run on past the deadline.
   */
  storage?: Storage
  /** Gzip object bodies (recorded in the object's metadata). Default `false`. */
  compress?: boolean
  /**
   * Before writing, compare the value's hash with the stored object's and, when identical, update
   * only the metadata (expiry and timestamps) instead of uploading the body again. Costs one
   * metadata read per write; saves the upload (and a new generation) for unchanged values.
   * Default `false`.
   */
  dedupeWrites?: boolean
  /** Deadline of each operation (per key for `getMany`/`setMany`, per request for `clear`). Seconds or `'250ms'`-style strings. Default 5 s. */
  timeout?: number | string
  /** Requests in flight for `getMany`, `setMany` and `clear`. Default 16. */
  concurrency?: number
}

/** What a read found: the decoded entry, or nothing. */
type ReadResult = CacheEntry | undefined

/** A serialized entry ready to upload. */
interface PreparedWrite {
  key: string
  bytes: Uint8Array
  valueSha256: string
  /** Physical expiry, epoch seconds; `undefined` = none. */
  expiresAt: number | undefined
  entry: CacheEntry
}

/** Upload preconditions (`ifGenerationMatch: 0` = only if absent). */
interface Preconditions {
  ifGenerationMatch?: number | string
  ifMetagenerationMatch?: number | string
}

/**
 * A Google Cloud Storage store for acache: one object per key, named `prefix + key`, holding the
 * wire-format entry (optionally gzipped), its physical expiry in custom metadata.
 *
 * Reads cost two requests (metadata, then the body of exactly that generation); `exists` one.
 * Every operation has a deadline; failures follow `onError` (default: a miss / a skipped write,
 * reported). See the package README for the object layout and the choices made.
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { GCSCache } from '@acache/gcs'
 *
 * const store = new GCSCache({ bucket: 'my-cache-bucket', prefix: 'prices/', compress: true })
 * const getPrice = cache(60, { stale: 30, key: 'price:{symbol}', store })(async (symbol: string) => api.price(symbol))
 * ```
 */
export class GCSCache implements CacheStorage {
  readonly bucketName: string
  readonly prefix: string
  readonly storage: Storage
  readonly compress: boolean
  readonly dedupeWrites: boolean
  /** The per-operation deadline, milliseconds. */
  readonly timeoutMs: number
  readonly concurrency: number
  private readonly bucket: Bucket
  private readonly serializer: Serializer
  private readonly errors: StoreErrorPolicy

  constructor(options: GCSCacheOptions) {
    if (options === undefined) throw new TypeError('GCSCache: options are required (at least { bucket })')
    checkOptionKeys('GCSCache', options, KNOWN_OPTIONS)
    const { bucket, prefix = '', storage, compress = false, dedupeWrites = false, concurrency = DEFAULT_CONCURRENCY } = options
    if (typeof bucket !== 'string' || bucket === '') throw new TypeError('GCSCache: option "bucket" must be a non-empty bucket name')
    if (typeof prefix !== 'string') throw new TypeError('GCSCache: option "prefix" must be a string')
    if (Buffer.byteLength(prefix) > 512) throw new TypeError('GCSCache: option "prefix" must be at most 512 UTF-8 bytes (object names are at most 1024)')
    if (storage !== undefined && (storage === null || typeof storage !== 'object' || typeof (storage as Storage).bucket !== 'function')) {
      throw new TypeError('GCSCache: option "storage" must be a Storage instance from @google-cloud/storage')
    }
    if (typeof compress !== 'boolean') throw new TypeError('GCSCache: option "compress" must be a boolean')
    if (typeof dedupeWrites !== 'boolean') throw new TypeError('GCSCache: option "dedupeWrites" must be a boolean')
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('GCSCache: option "concurrency" must be an integer >= 1')
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
      throw new TypeError('GCSCache: option "name" must be a non-empty string')
    }
    let timeoutSeconds: number
    try {
      timeoutSeconds = parseDuration(options.timeout ?? DEFAULT_TIMEOUT_SECONDS, 'timeout', { allowZero: false })
    } catch (error) {
      throw new TypeError(`GCSCache: ${(error as Error).message}`)
    }
    this.serializer = resolveSerializer(options.serializer, 'GCSCache option "serializer"')
    this.errors = new StoreErrorPolicy(options.name ?? 'GCSCache', {
      onError: options.onError,
      metrics: options.metrics,
      logger: options.logger,
    })
    this.bucketName = bucket
    this.prefix = prefix
    this.compress = compress
    this.dedupeWrites = dedupeWrites
    this.concurrency = concurrency
    this.timeoutMs = Math.max(1, Math.round(timeoutSeconds * 1000))
    // Retries off: a dead endpoint must cost at most the deadline, and the engine already falls
    // back (a miss, a skipped write) where a retry would only delay the answer.
    this.storage = storage ?? new Storage({ retryOptions: { autoRetry: false }, timeout: this.timeoutMs })
    this.bucket = this.storage.bucket(bucket)
  }

  /** The object name a key maps to (see the README: long or unrepresentable keys are hashed). */
  objectName(key: string): string {
    return objectNameFor(this.prefix, key)
  }

  async get(key: string): Promise<unknown | undefined> {
    try {
      return (await this.deadline(this.read(key), 'get'))?.value
    } catch (error) {
      return this.errors.fail(error, 'get', key, undefined)
    }
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    try {
      return await this.deadline(this.read(key), 'getEntry')
    } catch (error) {
      return this.errors.fail(error, 'getEntry', key, undefined)
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return await this.deadline(
        (async () => {
          const meta = await this.liveMetadata(this.file(key))
          return meta !== undefined
        })(),
        'exists',
      )
    } catch (error) {
      return this.errors.fail(error, 'exists', key, false)
    }
  }

  async set(key: string, value: unknown, ttl: number): Promise<void> {
    const prepared = this.prepareValue(key, value, ttl, 'set')
    try {
      await this.deadline(this.write(prepared), 'set')
    } catch (error) {
      this.errors.fail(error, 'set', key, undefined)
    }
  }

  async setEntry(key: string, entry: CacheEntry, ttl?: number): Promise<void> {
    if (entry === null || typeof entry !== 'object') throw new TypeError(`GCSCache.setEntry: entry must be an object (key "${key}")`)
    let expiresAt: number | undefined
    if (ttl === undefined) expiresAt = entry.freshUntil === Infinity ? undefined : entry.freshUntil
    else expiresAt = expiryFor(checkTtl(ttl, 'setEntry'), nowSeconds())
    const prepared = this.prepare(key, entry, expiresAt)
    try {
      await this.deadline(this.write(prepared), 'setEntry')
    } catch (error) {
      this.errors.fail(error, 'setEntry', key, undefined)
    }
  }

  /**
   * Creates the object with the precondition `ifGenerationMatch: 0` (atomic: of concurrent
   * callers exactly one wins). When an object exists but has expired, it is replaced with the
   * preconditions `ifGenerationMatch` + `ifMetagenerationMatch` of the expired object, so a
   * racing writer that replaced it — or refreshed its TTL — in between makes this attempt lose
   * instead of overwriting a live entry.
   */
  async setIfNotExists(key: string, value: unknown, ttl: number): Promise<boolean> {
    const prepared = this.prepareValue(key, value, ttl, 'setIfNotExists')
    try {
      return await this.deadline(this.create(prepared), 'setIfNotExists')
    } catch (error) {
      return this.errors.fail(error, 'setIfNotExists', key, false)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.deadline(this.file(key).delete({ ignoreNotFound: true }), 'delete')
    } catch (error) {
      this.errors.fail(error, 'delete', key, undefined)
    }
  }

  async getMany(keys: string[]): Promise<Map<string, unknown>> {
    const result = new Map<string, unknown>()
    const unique = [...new Set(keys)]
    await forEachBounded(unique, this.concurrency, async (key) => {
      try {
        const entry = await this.deadline(this.read(key), 'getMany')
        if (entry !== undefined) result.set(key, entry.value)
      } catch (error) {
        this.errors.fail(error, 'getMany', key, undefined)
      }
    })
    // In the order asked for, whatever order the requests finished in.
    const ordered = new Map<string, unknown>()
    for (const key of unique) if (result.has(key)) ordered.set(key, result.get(key))
    return ordered
  }

  async setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): Promise<void> {
    const pairs = items instanceof Map ? [...items] : Object.entries(items)
    checkTtl(ttl, 'setMany')
    // Serialize everything first: a value that cannot be stored throws before anything is written.
    const prepared = pairs.map(([key, value]) => this.prepareValue(key, value, ttl, 'setMany'))
    await forEachBounded(prepared, this.concurrency, async (write) => {
      try {
        await this.deadline(this.write(write), 'setMany')
      } catch (error) {
        this.errors.fail(error, 'setMany', write.key, undefined)
      }
    })
  }

  /**
   * Deletes every object whose name starts with the prefix, page by page (1000 per page), with
   * `concurrency` deletes in flight. Refused (through `onError`) when the prefix is empty.
   */
  async clear(): Promise<void> {
    try {
      if (this.prefix === '') {
        throw new TypeError('GCSCache: clear() needs a non-empty "prefix"; refusing to delete every object in the bucket')
      }
      let pageToken: string | undefined
      do {
        const [files, next] = await this.deadline(
          this.bucket.getFiles({ prefix: this.prefix, autoPaginate: false, maxResults: LIST_PAGE_SIZE, pageToken }),
          'clear',
        )
        await forEachBounded(files, this.concurrency, (file) =>
          this.deadline(file.delete({ ignoreNotFound: true }), 'clear').then(() => undefined),
        )
        pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken
      } while (pageToken)
    } catch (error) {
      this.errors.fail(error, 'clear', undefined, undefined)
    }
  }

  // --------------------------------------------------------------------------------------------

  private file(key: string): File {
    return this.bucket.file(this.objectName(key))
  }

  private deadline<T>(work: Promise<T>, operation: string): Promise<T> {
    return withDeadline(work, this.timeoutMs, `${this.errors.name} ${operation}`)
  }

  /**
   * The object's metadata when it exists and has not expired. An expired object is deleted —
   * only that generation and metageneration, so a concurrent rewrite or TTL refresh survives.
   */
  private async liveMetadata(file: File): Promise<FileMetadata | undefined> {
    let meta: FileMetadata
    try {
      ;[meta] = await file.getMetadata()
    } catch (error) {
      if (statusOf(error) === 404) return undefined
      throw error
    }
    const expiresAt = readTime(meta, GCS_METADATA.expiresAt)
    if (expiresAt === undefined || expiresAt > nowSeconds()) return meta
    try {
      await file.delete({ ifGenerationMatch: meta.generation, ifMetagenerationMatch: meta.metageneration })
    } catch (error) {
      const status = statusOf(error)
      // 404 / 412: someone else deleted or rewrote it first, which is fine.
      if (status !== 404 && status !== 412) this.errors.report(error, 'deleteExpired', file.name)
    }
    return undefined
  }

  private async read(key: string): Promise<ReadResult> {
    const file = this.file(key)
    const meta = await this.liveMetadata(file)
    if (meta === undefined) return undefined
    let body: Buffer
    try {
      // Exactly the generation whose expiry was just checked.
      ;[body] = await this.bucket.file(file.name, { generation: meta.generation }).download()
    } catch (error) {
      if (statusOf(error) === 404) return undefined // replaced or deleted in between
      throw error
    }
    return this.decode(body, meta)
  }

  private async decode(body: Buffer, meta: FileMetadata): Promise<CacheEntry> {
    const compression = customMetadata(meta)[GCS_METADATA.compression]
    let bytes: Uint8Array = body
    if (compression === 'gzip') {
      try {
        bytes = await gunzipAsync(body)
      } catch (error) {
        throw new WireFormatError(`object "${meta.name}" is marked gzip but does not decompress: ${(error as Error).message}`, { cause: error })
      }
    } else if (compression !== undefined) {
      throw new WireFormatError(`object "${meta.name}" has an unknown ${GCS_METADATA.compression} ${JSON.stringify(compression)}`)
    }
    const entry = decodeEntry(bytes, this.serializer)
    // A metadata-only refresh (dedupeWrites) leaves the body's header behind: the metadata wins.
    const freshUntil = readTime(meta, GCS_METADATA.freshUntil)
    const createdAt = readTime(meta, GCS_METADATA.createdAt)
    if (freshUntil !== undefined) entry.freshUntil = freshUntil
    if (createdAt !== undefined) {
      if (!Number.isFinite(createdAt)) throw new WireFormatError(`object "${meta.name}" has an invalid ${GCS_METADATA.createdAt}`)
      entry.createdAt = createdAt
    }
    return entry
  }

  private prepareValue(key: string, value: unknown, ttl: number, method: string): PreparedWrite {
    checkTtl(ttl, method)
    const now = nowSeconds()
    const expiresAt = expiryFor(ttl, now)
    return this.prepare(key, { value, createdAt: now, freshUntil: expiresAt ?? Infinity }, expiresAt)
  }

  /** Serializes synchronously, so a value that cannot be stored throws (naming the key) whatever `onError` says. */
  private prepare(key: string, entry: CacheEntry, expiresAt: number | undefined): PreparedWrite {
    if (typeof key !== 'string') throw new TypeError(`GCSCache: keys must be strings (got ${typeof key})`)
    if (entry.value === undefined) throw new TypeError(`GCSCache: cannot store undefined (key "${key}")`)
    let bytes: Uint8Array
    try {
      bytes = encodeEntry(entry, this.serializer)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const message = `GCSCache: cannot store the value of key "${key}": ${reason}`
      // A bad entry (NaN timestamps) is a usage error; anything else came from the serializer.
      if (error instanceof WireFormatError) throw new TypeError(message, { cause: error })
      throw new SerializationError(message, { cause: error })
    }
    const valueSha256 = createHash('sha256').update(bytes.subarray(WIRE_HEADER_BYTES)).digest('base64')
    return { key, bytes, valueSha256, expiresAt, entry }
  }

  private async write(write: PreparedWrite): Promise<void> {
    const file = this.file(write.key)
    if (this.dedupeWrites && (await this.refreshIfIdentical(file, write))) return
    await this.upload(file, write, {})
  }

  /** dedupeWrites: when the stored value hashes the same, move its expiry and timestamps (metadata only). */
  private async refreshIfIdentical(file: File, write: PreparedWrite): Promise<boolean> {
    let meta: FileMetadata
    try {
      ;[meta] = await file.getMetadata()
    } catch (error) {
      if (statusOf(error) === 404) return false
      throw error
    }
    if (customMetadata(meta)[GCS_METADATA.valueSha256] !== write.valueSha256) return false
    try {
      await file.setMetadata(
        {
          metadata: {
            [GCS_METADATA.expiresAt]: write.expiresAt === undefined ? null : String(write.expiresAt),
            [GCS_METADATA.freshUntil]: String(write.entry.freshUntil),
            [GCS_METADATA.createdAt]: String(write.entry.createdAt),
          },
        },
        // Only the object just compared: a concurrent writer's new value must not get this TTL.
        { ifGenerationMatch: meta.generation, ifMetagenerationMatch: meta.metageneration },
      )
      return true
    } catch (error) {
      const status = statusOf(error)
      if (status === 404 || status === 412) return false // changed meanwhile: upload instead
      throw error
    }
  }

  private async upload(file: File, write: PreparedWrite, preconditions: Preconditions): Promise<void> {
    const custom: Record<string, string> = { [GCS_METADATA.valueSha256]: write.valueSha256 }
    if (write.expiresAt !== undefined) custom[GCS_METADATA.expiresAt] = String(write.expiresAt)
    let body: Uint8Array = write.bytes
    if (this.compress) {
      body = await gzipAsync(write.bytes)
      custom[GCS_METADATA.compression] = 'gzip'
    }
    await file.save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
      // One multipart request: cache entries are small, and a resumable session costs two.
      resumable: false,
      contentType: 'application/octet-stream',
      metadata: { metadata: custom },
      preconditionOpts: preconditions,
      timeout: this.timeoutMs,
    })
  }

  private async create(write: PreparedWrite): Promise<boolean> {
    const file = this.file(write.key)
    for (let attempt = 0; attempt < SET_IF_NOT_EXISTS_ATTEMPTS; attempt++) {
      if (await this.uploadIf(file, write, { ifGenerationMatch: 0 })) return true
      let meta: FileMetadata
      try {
        ;[meta] = await file.getMetadata()
      } catch (error) {
        if (statusOf(error) === 404) continue // deleted since: try to create again
        throw error
      }
      const expiresAt = readTime(meta, GCS_METADATA.expiresAt)
      if (expiresAt === undefined || expiresAt > nowSeconds()) return false
      const preconditions = { ifGenerationMatch: meta.generation!, ifMetagenerationMatch: meta.metageneration! }
      if (await this.uploadIf(file, write, preconditions)) return true
    }
    // Lost every round: others kept writing the key, so it exists.
    return false
  }

  /** Uploads under preconditions; false when they did not hold. */
  private async uploadIf(file: File, write: PreparedWrite, preconditions: Preconditions): Promise<boolean> {
    try {
      await this.upload(file, write, preconditions)
      return true
    } catch (error) {
      if (statusOf(error) === 412) return false
      throw error
    }
  }
}

function nowSeconds(): number {
  return Date.now() / 1000
}

/** The physical expiry of a write with `ttl` at `now`; `undefined` = none (ttl 0 or Infinity). */
function expiryFor(ttl: number, now: number): number | undefined {
  return ttl > 0 && ttl !== Infinity ? now + ttl : undefined
}

function checkTtl(ttl: unknown, method: string): number {
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0) {
    throw new TypeError(`GCSCache.${method}: ttl must be a number of seconds >= 0 (got ${String(ttl)})`)
  }
  return ttl
}

function customMetadata(meta: FileMetadata): Record<string, unknown> {
  const custom = meta.metadata
  return custom !== null && typeof custom === 'object' ? (custom as Record<string, unknown>) : {}
}

/** A time from custom metadata; `undefined` when absent; a WireFormatError when it is not a time. */
function readTime(meta: FileMetadata, field: string): number | undefined {
  const raw = customMetadata(meta)[field]
  if (raw === undefined || raw === null) return undefined
  const seconds = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN
  if (Number.isNaN(seconds) || seconds === -Infinity) {
    throw new WireFormatError(`object "${meta.name}" has an invalid ${field} ${JSON.stringify(raw)}`)
  }
  return seconds
}

/** The HTTP status of a client error (`ApiError.code`), if any. */
function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}
