import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import {
  checkOptionKeys,
  decodeEntry,
  encodeEntry,
  forEachBounded,
  parseDuration,
  resolveSerializer,
  SerializationError,
  StoreErrorPolicy,
  TimeoutError,
  WIRE_HEADER_BYTES,
  WireFormatError,
  type CacheEntry,
  type CacheStorage,
  type RemoteStoreOptions,
  type Serializer,
} from '@acache/core'
import { objectName, prefixProblem } from './object-names.js'

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/** Options of {@link S3Cache}; the shared ones (`onError`, `metrics`, `logger`, `serializer`, `name`) come from `RemoteStoreOptions`. */
export interface S3CacheOptions extends RemoteStoreOptions {
  /** The bucket (required). It must exist. */
  bucket: string
  /** Prepended to every key; `clear()` deletes everything under it. Default `''` (then `clear()` is a usage error). End it with a delimiter (`'cache/'`): the prefix `'app'` also owns `'app2/…'`. */
  prefix?: string
  /** The S3 client. Default `new S3Client({})`: region, credentials and endpoint from the environment. */
  client?: S3Client
  /** Gzip object bodies (metadata `acache-compression: gzip`). Default `false`. */
  compress?: boolean
  /** Skip re-uploading a value whose bytes are already stored; only its timestamps are refreshed (server-side copy). Default `false`. */
  dedupeWrites?: boolean
  /** Deadline of each operation (seconds or a string such as `'2s'`). Default 5 s. */
  timeout?: number | string
  /** Requests in flight at once for `getMany` / `setMany` / `clear()` / `cleanupExpired()`. Default 16. */
  concurrency?: number
}

const OPTION_NAMES = [
  'bucket',
  'prefix',
  'client',
  'serializer',
  'compress',
  'dedupeWrites',
  'onError',
  'metrics',
  'logger',
  'timeout',
  'concurrency',
  'name',
] as const

/** Object metadata names (S3 stores them as `x-amz-meta-…`, lower-cased). */
const META = {
  /** Physical expiry, epoch seconds; absent = never. */
  expiresAt: 'acache-expires-at',
  /** `gzip` when the body is compressed. */
  compression: 'acache-compression',
  /** SHA-256 (hex) of the serialized value, written with `dedupeWrites`. */
  valueHash: 'acache-value-sha256',
  /** Timestamps that supersede the body's header after a deduplicated write refreshed them. */
  freshUntil: 'acache-fresh-until',
  createdAt: 'acache-created-at',
} as const

const DEFAULT_TIMEOUT_SECONDS = 5
const DEFAULT_CONCURRENCY = 16
/** How often `setIfNotExists` re-checks after losing a conditional write before answering `false`. */
const CONDITIONAL_ATTEMPTS = 5
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000

/** What a GetObject / HeadObject told us about an object. */
interface ObjectHead {
  etag: string | undefined
  metadata: Record<string, string>
}

/**
 * A {@link CacheStorage} on Amazon S3 (or an S3-compatible server), through `@aws-sdk/client-s3`.
 *
 * One object per key, named `prefix + key` (see `objectName` for the keys stored hashed), its body
 * the acache wire format `[freshUntil f64 BE][createdAt f64 BE][serialized value]` (optionally
 * gzipped), its physical expiry in the metadata `acache-expires-at`. An expired object is a miss
 * and is deleted when read (S3 lifecycle rules only expire whole days; use one on the prefix as a
 * backstop, or call {@link S3Cache.cleanupExpired}).
 *
 * Every operation has a deadline (`timeout`); failures follow `onError` (a miss / a skipped write
 * by default, a rethrow with `'raise'`). A corrupt object is a miss plus a reported error.
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { S3Cache } from '@acache/s3'
 *
 * const store = new S3Cache({ bucket: 'my-cache', prefix: 'reports/', compress: true })
 * const report = cache(3600, { store, key: 'report:{id}' })(async (id: string) => buildReport(id))
 * ```
 */
export class S3Cache implements CacheStorage {
  readonly bucket: string
  readonly prefix: string
  readonly client: S3Client
  /** Deadline of each operation, in seconds. */
  readonly timeout: number
  readonly concurrency: number
  private readonly serializer: Serializer
  private readonly compress: boolean
  private readonly dedupeWrites: boolean
  private readonly errors: StoreErrorPolicy
  private readonly ownsClient: boolean

  constructor(options: S3CacheOptions) {
    const name = options?.name ?? 'S3Cache'
    checkOptionKeys('S3Cache', options, OPTION_NAMES)
    if (options === undefined) throw new TypeError('S3Cache: options are required ({ bucket, … })')
    if (typeof name !== 'string' || name === '') throw new TypeError('S3Cache: option "name" must be a non-empty string')
    const { bucket, prefix = '', client, compress = false, dedupeWrites = false, concurrency = DEFAULT_CONCURRENCY } = options
    if (typeof bucket !== 'string' || bucket === '') throw new TypeError('S3Cache: option "bucket" must be a non-empty string')
    if (typeof prefix !== 'string') throw new TypeError('S3Cache: option "prefix" must be a string')
    const problem = prefixProblem(prefix)
    if (problem !== undefined) throw new TypeError(`S3Cache: option "prefix" ${problem}`)
    if (client !== undefined && (client === null || typeof (client as Partial<S3Client>).send !== 'function')) {
      throw new TypeError('S3Cache: option "client" must be an S3Client from @aws-sdk/client-s3')
    }
    if (typeof compress !== 'boolean') throw new TypeError('S3Cache: option "compress" must be a boolean')
    if (typeof dedupeWrites !== 'boolean') throw new TypeError('S3Cache: option "dedupeWrites" must be a boolean')
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new TypeError(`S3Cache: option "concurrency" must be an integer >= 1 (got ${String(concurrency)})`)
    }
    this.timeout = parseDuration(options.timeout ?? DEFAULT_TIMEOUT_SECONDS, 'timeout', { allowZero: false })
    this.serializer = resolveSerializer(options.serializer, 'S3Cache option "serializer"')
    this.errors = new StoreErrorPolicy(name, { onError: options.onError, metrics: options.metrics, logger: options.logger })
    this.bucket = bucket
    this.prefix = prefix
    this.compress = compress
    this.dedupeWrites = dedupeWrites
    this.concurrency = concurrency
    this.ownsClient = client === undefined
    this.client = client ?? new S3Client({})
  }

  /** The object name that holds `key`. */
  objectName(key: string): string {
    return objectName(this.prefix, checkKey(key))
  }

  async get(key: string): Promise<unknown | undefined> {
    try {
      return (await this.deadline('get', (signal) => this.readEntry(key, signal)))?.value
    } catch (error) {
      return this.errors.fail(error, 'get', key, undefined)
    }
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    try {
      return await this.deadline('getEntry', (signal) => this.readEntry(key, signal))
    } catch (error) {
      return this.errors.fail(error, 'getEntry', key, undefined)
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return await this.deadline('exists', async (signal) => {
        const head = await this.head(key, signal)
        return head !== undefined && !(await this.dropIfExpired(key, head, signal))
      })
    } catch (error) {
      return this.errors.fail(error, 'exists', key, false)
    }
  }

  async set(key: string, value: unknown, ttl: number): Promise<void> {
    checkTtl(ttl, 'set')
    const now = Date.now() / 1000
    const entry = { value, createdAt: now, freshUntil: expiryOf(now, ttl) ?? Infinity }
    const body = this.encode(key, entry)
    try {
      await this.deadline('set', (signal) => this.write(key, body, entry, expiryOf(now, ttl), signal))
    } catch (error) {
      this.errors.fail(error, 'set', key, undefined)
    }
  }

  async setEntry(key: string, entry: CacheEntry, ttl?: number): Promise<void> {
    if (entry === null || typeof entry !== 'object') throw new TypeError(`S3Cache.setEntry: entry must be an object (key "${key}")`)
    if (ttl !== undefined) checkTtl(ttl, 'setEntry')
    const body = this.encode(key, entry)
    const expiresAt = ttl !== undefined ? expiryOf(Date.now() / 1000, ttl) : entry.freshUntil === Infinity ? undefined : entry.freshUntil
    try {
      await this.deadline('setEntry', (signal) => this.write(key, body, entry, expiresAt, signal))
    } catch (error) {
      this.errors.fail(error, 'setEntry', key, undefined)
    }
  }

  /**
   * Stores `value` only when `key` is absent or expired, atomically on S3: a conditional PutObject
   * (`If-None-Match: *` when absent, `If-Match: <etag>` over an expired object, so a concurrent
   * writer that replaced it in between wins). A lost race (412, 409 while another conditional
   * write is in flight, or 404 when the expired object was deleted meanwhile) re-checks; the
   * answer is `false` when someone else's object is there.
   */
  async setIfNotExists(key: string, value: unknown, ttl: number): Promise<boolean> {
    checkTtl(ttl, 'setIfNotExists')
    const now = Date.now() / 1000
    const entry = { value, createdAt: now, freshUntil: expiryOf(now, ttl) ?? Infinity }
    const body = this.encode(key, entry)
    try {
      return await this.deadline('setIfNotExists', async (signal) => {
        for (let attempt = 0; attempt < CONDITIONAL_ATTEMPTS; attempt++) {
          const head = await this.head(key, signal)
          if (head !== undefined && !isExpired(head)) return false
          const condition = head === undefined ? { IfNoneMatch: '*' } : { IfMatch: head.etag }
          try {
            await this.put(key, body, expiryOf(now, ttl), signal, condition)
            return true
          } catch (error) {
            // Replacing an expired object whose key was deleted meanwhile (a reader removing it):
            // S3 may answer `If-Match` on a missing key with 404 rather than 412 — a lost race too.
            if (!isConditionalConflict(error) && !(head !== undefined && isNotFound(error))) throw error
          }
        }
        return false
      })
    } catch (error) {
      return this.errors.fail(error, 'setIfNotExists', key, false)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.deadline('delete', (signal) =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectName(key) }), { abortSignal: signal }),
      )
    } catch (error) {
      this.errors.fail(error, 'delete', key, undefined)
    }
  }

  /**
   * Reads `keys` with at most `concurrency` requests in flight, each with its own deadline. A
   * corrupt object is a miss (reported); a transport failure stops the batch (the rest are misses)
   * and is reported once — or rethrown with `onError: 'raise'`.
   */
  async getMany(keys: string[]): Promise<Map<string, unknown>> {
    if (!Array.isArray(keys)) throw new TypeError('S3Cache.getMany: keys must be an array of strings')
    const found = new Map<string, unknown>()
    await this.batch('getMany', [...new Set(keys)], async (key, signal) => {
      try {
        const entry = await this.deadline('getMany', (s) => this.readEntry(key, s), signal)
        if (entry !== undefined) found.set(key, entry.value)
      } catch (error) {
        // One corrupt object must not cost the other keys their hits.
        if (!(error instanceof WireFormatError) || this.errors.raise) throw error
        this.errors.report(error, 'getMany', key)
      }
    })
    return found
  }

  /** Writes every item (at most `concurrency` at once); a failure stops the batch and follows `onError`. */
  async setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): Promise<void> {
    checkTtl(ttl, 'setMany')
    if (items === null || typeof items !== 'object') throw new TypeError('S3Cache.setMany: items must be a Map or an object')
    const now = Date.now() / 1000
    const freshUntil = expiryOf(now, ttl) ?? Infinity
    // Encode everything first: a value that cannot be stored throws before anything is written.
    const writes = [...(items instanceof Map ? items : Object.entries(items))].map(([key, value]) => {
      const entry = { value, createdAt: now, freshUntil }
      return { key, entry, body: this.encode(key, entry) }
    })
    const byKey = new Map(writes.map((w) => [w.key, w]))
    await this.batch('setMany', [...byKey.keys()], async (key, signal) => {
      const w = byKey.get(key)!
      await this.deadline('setMany', (s) => this.write(key, w.body, w.entry, expiryOf(now, ttl), s), signal)
    })
  }

  /**
   * Deletes every object under `prefix` (ListObjectsV2 pages, DeleteObjects batches of ≤ 1000),
   * and nothing else. Each request has its own deadline. An empty prefix would empty the whole
   * bucket: it is a usage error, reported (or thrown) per `onError`.
   */
  async clear(): Promise<void> {
    try {
      if (this.prefix === '') {
        throw new Error('S3Cache.clear() needs a non-empty prefix: with prefix "" it would delete the whole bucket')
      }
      await this.forEachPage(async (names, signal) => {
        for (let i = 0; i < names.length; i += DELETE_BATCH) {
          const chunk = names.slice(i, i + DELETE_BATCH)
          const res = await this.deadline(
            'clear',
            (s) =>
              this.client.send(
                new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
                { abortSignal: s },
              ),
            signal,
          )
          if (res.Errors !== undefined && res.Errors.length > 0) {
            const first = res.Errors[0]
            throw new Error(`S3Cache.clear(): ${res.Errors.length} object(s) not deleted, e.g. ${first.Key}: ${first.Code} ${first.Message}`)
          }
        }
      })
    } catch (error) {
      this.errors.fail(error, 'clear', undefined, undefined)
    }
  }

  /**
   * Deletes the expired objects under `prefix` (one HEAD per object, `concurrency` at a time, each
   * delete conditional on the ETag it saw). Objects without acache metadata are left alone.
   * Resolves to the number deleted. For a large prefix prefer a lifecycle rule plus reads.
   *
   * @example
   * ```ts
   * setInterval(() => void store.cleanupExpired(), 3600_000).unref()
   * ```
   */
  async cleanupExpired(): Promise<number> {
    let deleted = 0
    try {
      await this.forEachPage(async (names, signal) => {
        await this.batch('cleanupExpired', names, async (name, batchSignal) => {
          await this.deadline(
            'cleanupExpired',
            async (s) => {
              const head = await this.headObject(name, s)
              if (head !== undefined && isExpired(head) && (await this.deleteIfUnchanged(name, head, s))) deleted++
            },
            batchSignal,
          )
        }, signal)
      })
    } catch (error) {
      this.errors.fail(error, 'cleanupExpired', undefined, undefined)
    }
    return deleted
  }

  /** Destroys the client if this store created it (the default client); a client you passed stays yours. */
  close(): void {
    if (this.ownsClient) this.client.destroy()
  }

  // --- internals -------------------------------------------------------------------------------

  private encode(key: string, entry: CacheEntry): Uint8Array {
    checkKey(key)
    if (entry.value === undefined) throw new TypeError(`S3Cache: cannot store undefined (key "${key}")`)
    try {
      return encodeEntry(entry, this.serializer)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new SerializationError(`S3Cache: cannot store the value of key "${key}": ${reason}`, { cause: error })
    }
  }

  /** GetObject + decode; `undefined` when absent or expired (an expired object is deleted). */
  private async readEntry(key: string, signal: AbortSignal): Promise<CacheEntry | undefined> {
    let res
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectName(key) }), { abortSignal: signal })
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
    const head: ObjectHead = { etag: res.ETag, metadata: res.Metadata ?? {} }
    if (await this.dropIfExpired(key, head, signal)) {
      await res.Body?.transformToByteArray().catch(() => undefined) // release the connection
      return undefined
    }
    const raw = res.Body === undefined ? new Uint8Array(0) : await res.Body.transformToByteArray()
    return this.decode(head, raw)
  }

  private async decode(head: ObjectHead, raw: Uint8Array): Promise<CacheEntry> {
    let bytes = raw
    const compression = head.metadata[META.compression]
    if (compression === 'gzip') {
      try {
        bytes = await gunzipAsync(raw)
      } catch (error) {
        throw new WireFormatError(`object body does not gunzip: ${(error as Error).message}`, { cause: error })
      }
    } else if (compression !== undefined) {
      throw new WireFormatError(`unknown ${META.compression} metadata ${JSON.stringify(compression)}`)
    }
    const entry = decodeEntry(bytes, this.serializer)
    // A deduplicated write refreshed the timestamps in the metadata and left the body as it was.
    const freshUntil = head.metadata[META.freshUntil]
    const createdAt = head.metadata[META.createdAt]
    if (freshUntil !== undefined) entry.freshUntil = metaNumber(META.freshUntil, freshUntil, true)
    if (createdAt !== undefined) entry.createdAt = metaNumber(META.createdAt, createdAt, false)
    return entry
  }

  private head(key: string, signal: AbortSignal): Promise<ObjectHead | undefined> {
    return this.headObject(this.objectName(key), signal)
  }

  private async headObject(name: string, signal: AbortSignal): Promise<ObjectHead | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: name }), { abortSignal: signal })
      return { etag: res.ETag, metadata: res.Metadata ?? {} }
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  /** True when the object is expired (it is then deleted unless it changed meanwhile; a failed delete is only reported). */
  private async dropIfExpired(key: string, head: ObjectHead, signal: AbortSignal): Promise<boolean> {
    if (!isExpired(head)) return false
    try {
      await this.deleteIfUnchanged(this.objectName(key), head, signal)
    } catch (error) {
      // The read already has its answer (a miss); the next read retries the delete.
      if (!signal.aborted) this.errors.report(error, 'deleteExpired', key)
    }
    return true
  }

  /** Deletes `name` if its ETag is still `head.etag`: a fresh object written meanwhile must survive. */
  private async deleteIfUnchanged(name: string, head: ObjectHead, signal: AbortSignal): Promise<boolean> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: name, IfMatch: head.etag }), { abortSignal: signal })
      return true
    } catch (error) {
      if (isNotFound(error) || isConditionalConflict(error)) return false
      throw error
    }
  }

  /** A plain write, or with `dedupeWrites` a timestamp refresh when the same value bytes are stored. */
  private async write(key: string, body: Uint8Array, entry: CacheEntry, expiresAt: number | undefined, signal: AbortSignal): Promise<void> {
    if (this.dedupeWrites) {
      const head = await this.head(key, signal)
      if (
        head !== undefined &&
        !isExpired(head) &&
        head.metadata[META.valueHash] === valueHash(body) &&
        (head.metadata[META.compression] === 'gzip') === this.compress &&
        (await this.refresh(key, head, body, entry, expiresAt, signal))
      ) {
        return
      }
    }
    await this.put(key, body, expiresAt, signal)
  }

  /**
   * Rewrites only the metadata of `key` (CopyObject onto itself, `MetadataDirective: REPLACE`,
   * conditional on the ETag seen): the new expiry and timestamps, same body. False when the copy
   * could not be made (the object changed, or the server cannot copy that name): then the caller
   * uploads the body.
   */
  private async refresh(
    key: string,
    head: ObjectHead,
    body: Uint8Array,
    entry: CacheEntry,
    expiresAt: number | undefined,
    signal: AbortSignal,
  ): Promise<boolean> {
    const name = this.objectName(key)
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: name,
          CopySource: `${this.bucket}/${encodeCopySource(name)}`,
          CopySourceIfMatch: head.etag,
          MetadataDirective: 'REPLACE',
          ContentType: 'application/octet-stream',
          Metadata: {
            ...this.metadata(body, expiresAt),
            [META.freshUntil]: String(entry.freshUntil),
            [META.createdAt]: String(entry.createdAt),
          },
        }),
        { abortSignal: signal },
      )
      return true
    } catch (error) {
      if (isNotFound(error) || isConditionalConflict(error)) return false
      throw error
    }
  }

  private async put(
    key: string,
    body: Uint8Array,
    expiresAt: number | undefined,
    signal: AbortSignal,
    condition: { IfNoneMatch?: string; IfMatch?: string } = {},
  ): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectName(key),
        Body: this.compress ? await gzipAsync(body) : body,
        ContentType: 'application/octet-stream',
        Metadata: this.metadata(body, expiresAt),
        ...condition,
      }),
      { abortSignal: signal },
    )
  }

  private metadata(body: Uint8Array, expiresAt: number | undefined): Record<string, string> {
    const metadata: Record<string, string> = {}
    if (expiresAt !== undefined) metadata[META.expiresAt] = String(expiresAt)
    if (this.compress) metadata[META.compression] = 'gzip'
    if (this.dedupeWrites) metadata[META.valueHash] = valueHash(body)
    return metadata
  }

  /** Runs `fn` with an abort signal that fires after `timeout` (or when `parent` aborts); rejects with a TimeoutError at the deadline even if the SDK is still retrying. */
  private async deadline<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> {
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const onParentAbort = (): void => controller.abort(parent!.reason)
    if (parent !== undefined) {
      if (parent.aborted) controller.abort(parent.reason)
      else parent.addEventListener('abort', onParentAbort, { once: true })
    }
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(`${this.errors.name} ${operation} did not finish within ${this.timeout * 1000} ms`)
        reject(error)
        controller.abort(error)
      }, this.timeout * 1000)
    })
    const work = fn(controller.signal)
    work.catch(() => undefined) // settled after the deadline: nobody is listening any more
    try {
      return await Promise.race([work, expired])
    } finally {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
    }
  }

  /** Bounded-concurrency batch: the first failure aborts the requests in flight and the rest, then follows `onError`. */
  private async batch(
    operation: string,
    keys: string[],
    task: (key: string, signal: AbortSignal) => Promise<void>,
    parent?: AbortSignal,
  ): Promise<void> {
    const controller = new AbortController()
    // Every request in flight listens to the batch's signal: that is `concurrency` listeners, not a leak.
    setMaxListeners(this.concurrency + 10, controller.signal)
    parent?.addEventListener('abort', () => controller.abort(parent.reason), { once: true })
    let failure: { error: unknown; key: string } | undefined
    await forEachBounded(keys, this.concurrency, async (key) => {
      if (failure !== undefined || controller.signal.aborted) return
      try {
        await task(key, controller.signal)
      } catch (error) {
        if (failure === undefined) failure = { error, key }
        controller.abort(error)
      }
    })
    if (failure !== undefined) {
      if (parent !== undefined) throw failure.error // the enclosing operation reports it
      this.errors.fail(failure.error, operation, failure.key, undefined)
    }
  }

  /** Calls `onPage` with the object names of each ListObjectsV2 page under the prefix. */
  private async forEachPage(onPage: (names: string[], signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController()
    let token: string | undefined
    do {
      const page = await this.deadline(
        'list',
        (s) =>
          this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }), {
            abortSignal: s,
          }),
        controller.signal,
      )
      const names = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => k !== undefined)
      if (names.length > 0) await onPage(names, controller.signal)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token !== undefined)
  }
}

function checkKey(key: string): string {
  if (typeof key !== 'string') throw new TypeError(`S3Cache: key must be a string (got ${typeof key})`)
  return key
}

function checkTtl(ttl: unknown, method: string): void {
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0) {
    throw new TypeError(`S3Cache.${method}: ttl must be a number of seconds >= 0 (got ${String(ttl)})`)
  }
}

/** Physical expiry of a write at `now` with `ttl`; `undefined` (none) for ttl 0 or `Infinity`. */
function expiryOf(now: number, ttl: number): number | undefined {
  return ttl > 0 && ttl !== Infinity ? now + ttl : undefined
}

function isExpired(head: ObjectHead): boolean {
  const raw = head.metadata[META.expiresAt]
  if (raw === undefined) return false
  return metaNumber(META.expiresAt, raw, false) <= Date.now() / 1000
}

/** A number from metadata; garbage there is corruption like garbage in the body. */
function metaNumber(name: string, raw: string, allowInfinity: boolean): number {
  const n = Number(raw)
  if (raw.trim() === '' || Number.isNaN(n) || (!allowInfinity && !Number.isFinite(n))) {
    throw new WireFormatError(`object metadata ${name} is ${JSON.stringify(raw)}, expected a number of epoch seconds`)
  }
  return n
}

function valueHash(body: Uint8Array): string {
  return createHash('sha256').update(body.subarray(WIRE_HEADER_BYTES)).digest('hex')
}

/** `x-amz-copy-source` is URL-encoded, `/` kept. */
function encodeCopySource(name: string): string {
  return name
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/')
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode
}

/** The object is absent (a missing *bucket* is a failure, not a miss; HEAD cannot tell them apart). */
function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name
  return name !== 'NoSuchBucket' && statusOf(error) === 404
}

/** 412 Precondition Failed, or 409 ConditionalRequestConflict (another conditional write in flight). */
function isConditionalConflict(error: unknown): boolean {
  const status = statusOf(error)
  return status === 412 || status === 409
}
