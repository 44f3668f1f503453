import type { BigIntStats } from 'node:fs'
import { link, mkdir, open, readdir, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  SerializationError,
  StoreErrorPolicy,
  WireFormatError,
  checkOptionKeys,
  forEachBounded,
  resolveSerializer,
  type CacheEntry,
  type CacheStorage,
  type RemoteStoreOptions,
  type Serializer,
} from '@acache/core'
import { FILE_HEADER_BYTES, TIMES_END, TIMES_START, decodeFile, encodeFile, readExpiry } from './file-format.js'
import { entryFileName, isEntryFileName, isTransientFileName, lockFileName, tempFileName } from './file-names.js'

/** Options of {@link LocalFileCache}; the shared ones (`onError`, `metrics`, `logger`, `serializer`, `name`) come from `RemoteStoreOptions`. */
export interface LocalFileCacheOptions extends RemoteStoreOptions {
  /** Gzip each value (`node:zlib`). Default `false`. Files of either kind are read whatever this says. */
  compress?: boolean
  /**
   * When the stored value's bytes equal the new ones, refresh the entry's times in place (a 36-byte
   * write into the existing file) instead of writing a new file. Default `false`.
   */
  dedupeWrites?: boolean
  /** How many files `getMany` / `setMany` / `clear` / `cleanupExpired` work on at once. Default 16. */
  concurrency?: number
}

const OPTION_KEYS = ['serializer', 'compress', 'dedupeWrites', 'onError', 'metrics', 'logger', 'name', 'concurrency'] as const

/** A lock older than this was left by a crashed process (a live one holds it for a few syscalls). */
const STALE_LOCK_MS = 10_000
/** A temp file older than this was left by a crashed process; `clear()` / `cleanupExpired()` remove it. */
const STALE_TEMP_MS = 10 * 60_000
/** How often `setIfNotExists` retries while another process replaces an expired entry. */
const MAX_TAKEOVER_ATTEMPTS = 50

interface ReadResult {
  entry: CacheEntry
  expiresAt: number
  /** Identity of the file that was read, so that only that file is ever removed. */
  stat: BigIntStats
}

const errorCode = (error: unknown): unknown => (error as NodeJS.ErrnoException | null)?.code

function checkTtl(ttl: unknown, method: string): number {
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0) {
    throw new TypeError(`LocalFileCache.${method}: ttl must be a number of seconds >= 0 (got ${String(ttl)})`)
  }
  return ttl
}

function checkKey(key: unknown, method: string): string {
  if (typeof key !== 'string') throw new TypeError(`LocalFileCache.${method}: key must be a string (got ${typeof key})`)
  return key
}

/** `now + ttl`, or `Infinity` for `ttl` 0 (no expiry). */
const until = (now: number, ttl: number): number => (ttl > 0 ? now + ttl : Infinity)

/**
 * A `CacheStorage` on a local directory: one file per key, written atomically (temp file +
 * rename), optionally gzip-compressed, shared safely by every process on the machine that uses
 * the same directory.
 *
 * Each file is a 24-byte header (magic, CRC-32, flags, physical expiry) followed by the DESIGN §5
 * wire format, so a damaged file is always detected: it is a miss, a reported error, and removed.
 * File names are injective and never leave `dir` (see {@link entryFileName}).
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { LocalFileCache } from '@acache/file'
 *
 * const store = new LocalFileCache('/var/cache/my-service', { compress: true })
 * const getReport = cache(3600, { key: 'report:{day}', store })(async (day: string) => buildReport(day))
 * ```
 */
export class LocalFileCache implements CacheStorage {
  /** The directory, as an absolute path. */
  readonly dir: string
  readonly compress: boolean
  readonly dedupeWrites: boolean
  readonly concurrency: number
  private readonly serializer: Serializer
  private readonly errors: StoreErrorPolicy

  constructor(dir: string, options: LocalFileCacheOptions = {}) {
    if (typeof dir !== 'string' || dir === '') {
      throw new TypeError(`LocalFileCache: "dir" must be a non-empty string (got ${dir === '' ? 'an empty string' : typeof dir})`)
    }
    if (dir.includes('\0')) throw new TypeError('LocalFileCache: "dir" must not contain NUL bytes')
    checkOptionKeys('LocalFileCache', options, OPTION_KEYS)
    const { compress = false, dedupeWrites = false, concurrency = 16, name = 'LocalFileCache' } = options
    if (typeof compress !== 'boolean') throw new TypeError('LocalFileCache: option "compress" must be a boolean')
    if (typeof dedupeWrites !== 'boolean') throw new TypeError('LocalFileCache: option "dedupeWrites" must be a boolean')
    if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1) {
      throw new TypeError(`LocalFileCache: option "concurrency" must be a positive integer (got ${String(concurrency)})`)
    }
    if (typeof name !== 'string' || name === '') throw new TypeError('LocalFileCache: option "name" must be a non-empty string')
    this.dir = resolve(dir)
    this.compress = compress
    this.dedupeWrites = dedupeWrites
    this.concurrency = concurrency
    this.serializer = resolveSerializer(options.serializer, 'LocalFileCache serializer')
    this.errors = new StoreErrorPolicy(name, { onError: options.onError, metrics: options.metrics, logger: options.logger })
  }

  /**
   * The absolute path of the file that holds `key` (whether or not it exists).
   *
   * @example
   * ```ts
   * new LocalFileCache('/tmp/c').pathOf('user:1') // '/tmp/c/k-user%3a1.acache'
   * ```
   */
  pathOf(key: string): string {
    return join(this.dir, entryFileName(checkKey(key, 'pathOf')))
  }

  async get(key: string): Promise<unknown> {
    return (await this.load(key, 'get'))?.value
  }

  async set(key: string, value: unknown, ttl: number): Promise<void> {
    checkTtl(ttl, 'set')
    const now = Date.now() / 1000
    const fresh = until(now, ttl)
    await this.write(key, { value, createdAt: now, freshUntil: fresh }, fresh, 'set')
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key)
    try {
      await unlink(path)
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.errors.fail(error, 'delete', key, undefined)
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.load(key, 'exists')) !== undefined
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    return this.load(key, 'getEntry')
  }

  async setEntry(key: string, entry: CacheEntry, ttl?: number): Promise<void> {
    if (entry === null || typeof entry !== 'object') throw new TypeError(`LocalFileCache.setEntry: entry must be an object (key "${key}")`)
    const { createdAt, freshUntil } = entry
    if (typeof createdAt !== 'number' || !Number.isFinite(createdAt) || typeof freshUntil !== 'number' || Number.isNaN(freshUntil)) {
      throw new TypeError(`LocalFileCache.setEntry: createdAt must be a finite number and freshUntil a number (key "${key}")`)
    }
    const expiresAt = ttl === undefined ? freshUntil : until(Date.now() / 1000, checkTtl(ttl, 'setEntry'))
    await this.write(key, { value: entry.value, createdAt, freshUntil }, expiresAt, 'setEntry')
  }

  /**
   * Stores only when no live entry exists, atomically across processes: the new file is linked to
   * its final name (`link()` fails when the name is taken). An expired or corrupt file is removed
   * under a per-key lock, and only if it is still the file that was judged dead.
   */
  async setIfNotExists(key: string, value: unknown, ttl: number): Promise<boolean> {
    checkTtl(ttl, 'setIfNotExists')
    const path = this.pathOf(key)
    const now = Date.now() / 1000
    const fresh = until(now, ttl)
    const bytes = await this.encode(key, { value, createdAt: now, freshUntil: fresh }, fresh)
    try {
      const temp = await this.writeTemp(path, bytes)
      try {
        for (let attempt = 0; attempt < MAX_TAKEOVER_ATTEMPTS; attempt++) {
          try {
            await link(temp, path)
            return true
          } catch (error) {
            if (errorCode(error) !== 'EEXIST') throw error
          }
          let found: ReadResult | undefined
          try {
            found = await this.read(path)
            if (found === undefined) continue // removed meanwhile: link again
          } catch (error) {
            if (!(error instanceof WireFormatError)) throw error
            // Corrupt: read() removed it, unless another process holds its lock.
            this.errors.report(error, 'setIfNotExists', key)
          }
          if (found !== undefined) {
            if (found.expiresAt > Date.now() / 1000) return false
            if (await this.removeIfUnchanged(path, found.stat)) continue
          }
          // Another process is replacing the file: let it finish.
          await sleep(1 + attempt)
        }
        throw new Error(`LocalFileCache: setIfNotExists of key "${key}" kept racing with other writers; gave up`)
      } finally {
        await unlink(temp).catch(() => undefined)
      }
    } catch (error) {
      return this.errors.fail(error, 'setIfNotExists', key, false)
    }
  }

  async getMany(keys: string[]): Promise<Map<string, unknown>> {
    if (!Array.isArray(keys)) throw new TypeError('LocalFileCache.getMany: keys must be an array of strings')
    const values = new Array<unknown>(keys.length)
    await forEachBounded(keys, this.concurrency, async (key, i) => {
      values[i] = await this.get(key)
    })
    const out = new Map<string, unknown>()
    keys.forEach((key, i) => {
      if (values[i] !== undefined) out.set(key, values[i])
    })
    return out
  }

  async setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): Promise<void> {
    checkTtl(ttl, 'setMany')
    const pairs = items instanceof Map ? [...items.entries()] : Object.entries(items)
    // Refuse the whole batch before writing any of it.
    for (const [key, value] of pairs) {
      if (value === undefined) throw new TypeError(`LocalFileCache.setMany: cannot store undefined (key "${key}")`)
    }
    const now = Date.now() / 1000
    const fresh = until(now, ttl)
    await forEachBounded(pairs, this.concurrency, ([key, value]) => this.write(key, { value, createdAt: now, freshUntil: fresh }, fresh, 'setMany'))
  }

  /** Removes this store's entry files (and leftover temp files and locks); other files in `dir` stay. */
  async clear(): Promise<void> {
    try {
      const names = await this.list()
      await forEachBounded(names, this.concurrency, async (name) => {
        if (isEntryFileName(name)) await unlink(join(this.dir, name)).catch(ignoreMissing)
        else if (isTransientFileName(name)) await this.sweepTransient(name)
      })
    } catch (error) {
      this.errors.fail(error, 'clear', undefined, undefined)
    }
  }

  /**
   * Removes every entry file whose physical expiry has passed (and any whose header is unreadable,
   * reported as an error), plus temp files and locks left by crashed processes. Resolves to the
   * number of entry files removed. Reads only each file's 24-byte header.
   *
   * @example
   * ```ts
   * setInterval(() => void store.cleanupExpired(), 3600_000).unref()
   * ```
   */
  async cleanupExpired(): Promise<number> {
    let removed = 0
    try {
      const names = await this.list()
      const now = Date.now() / 1000
      await forEachBounded(names, this.concurrency, async (name) => {
        if (isTransientFileName(name)) return this.sweepTransient(name)
        if (!isEntryFileName(name)) return
        const path = join(this.dir, name)
        let handle
        try {
          handle = await open(path, 'r')
        } catch (error) {
          return ignoreMissing(error)
        }
        let fileStat: BigIntStats
        const header = Buffer.alloc(FILE_HEADER_BYTES)
        let bytesRead: number
        try {
          fileStat = await handle.stat({ bigint: true })
          ;({ bytesRead } = await handle.read(header, 0, FILE_HEADER_BYTES, 0))
        } finally {
          await handle.close()
        }
        let expired: boolean
        try {
          expired = readExpiry(header.subarray(0, bytesRead)) <= now
        } catch (error) {
          this.errors.report(error, 'cleanupExpired', name)
          expired = true
        }
        if (expired && (await this.removeIfUnchanged(path, fileStat))) removed++
      })
    } catch (error) {
      return this.errors.fail(error, 'cleanupExpired', undefined, removed)
    }
    return removed
  }

  // ------------------------------------------------------------------ internals

  /** The live entry of `key`, or undefined. Expired and corrupt files are removed on the way. */
  private async load(key: string, operation: string): Promise<CacheEntry | undefined> {
    const path = this.pathOf(key)
    try {
      const found = await this.read(path)
      if (found === undefined) return undefined
      if (found.expiresAt <= Date.now() / 1000) {
        await this.removeIfUnchanged(path, found.stat)
        return undefined
      }
      return found.entry
    } catch (error) {
      return this.errors.fail(error, operation, key, undefined)
    }
  }

  /** Reads and decodes one file; undefined when there is none. A corrupt file is removed, then its error thrown. */
  private async read(path: string): Promise<ReadResult | undefined> {
    for (let attempt = 0; ; attempt++) {
      let handle
      try {
        handle = await open(path, 'r')
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return undefined
        throw error
      }
      let fileStat: BigIntStats
      let bytes: Buffer
      try {
        fileStat = await handle.stat({ bigint: true })
        bytes = await handle.readFile()
      } finally {
        await handle.close()
      }
      try {
        return { ...(await decodeFile(bytes, this.serializer)), stat: fileStat }
      } catch (error) {
        // A read that overlapped an in-place time refresh (dedupeWrites) can see a torn header:
        // read once more before calling the file corrupt.
        if (attempt === 0 && error instanceof WireFormatError) continue
        if (error instanceof WireFormatError) await this.removeIfUnchanged(path, fileStat)
        throw error
      }
    }
  }

  private async encode(key: string, entry: CacheEntry, expiresAt: number): Promise<Buffer> {
    if (entry.value === undefined) throw new TypeError(`LocalFileCache: cannot store undefined (key "${key}")`)
    try {
      return await encodeFile(entry, expiresAt, this.serializer, this.compress)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new SerializationError(`LocalFileCache: cannot serialize the value of key "${key}": ${reason}`, { cause: error })
    }
  }

  private async write(key: string, entry: CacheEntry, expiresAt: number, operation: string): Promise<void> {
    const path = this.pathOf(key)
    const bytes = await this.encode(key, entry, expiresAt) // a value the serializer refuses is the caller's error
    try {
      if (expiresAt <= Date.now() / 1000) {
        // Dead on arrival: nothing to keep, but the previous value must not survive either.
        await unlink(path).catch(ignoreMissing)
        return
      }
      if (this.dedupeWrites && (await this.refreshInPlace(path, bytes))) return
      const temp = await this.writeTemp(path, bytes)
      try {
        await rename(temp, path)
      } catch (error) {
        await unlink(temp).catch(() => undefined)
        throw error
      }
    } catch (error) {
      this.errors.fail(error, operation, key, undefined)
    }
  }

  /**
   * dedupeWrites: when the file holds the same value bytes, rewrite only its CRC and times (bytes
   * 4–39, one positioned write into the same inode) and leave the value untouched. Returns false
   * when the file is absent or differs (then it is replaced the usual way).
   */
  private async refreshInPlace(path: string, bytes: Buffer): Promise<boolean> {
    let handle
    try {
      handle = await open(path, 'r+')
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false
      throw error
    }
    try {
      const current = await handle.readFile()
      const sameValue =
        current.length === bytes.length &&
        current.subarray(TIMES_END).equals(bytes.subarray(TIMES_END)) &&
        current.subarray(0, TIMES_START).equals(bytes.subarray(0, TIMES_START)) &&
        current.subarray(8, 16).equals(bytes.subarray(8, 16))
      if (!sameValue) return false
      if (!current.subarray(TIMES_START, TIMES_END).equals(bytes.subarray(TIMES_START, TIMES_END))) {
        await handle.write(bytes, TIMES_START, TIMES_END - TIMES_START, TIMES_START)
      }
      return true
    } finally {
      await handle.close()
    }
  }

  /** Writes `bytes` to a new temp file next to `path` (creating the directory when missing); returns its path. */
  private async writeTemp(path: string, bytes: Buffer): Promise<string> {
    const temp = join(this.dir, tempFileName(path.slice(this.dir.length + 1)))
    try {
      await writeFile(temp, bytes, { flag: 'wx' })
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      if (errorCode(error) !== 'ENOENT') throw error
      await mkdir(this.dir, { recursive: true })
      try {
        await writeFile(temp, bytes, { flag: 'wx' })
      } catch (retryError) {
        await unlink(temp).catch(() => undefined)
        throw retryError
      }
    }
    return temp
  }

  /**
   * Removes `path` only if it is still the file described by `seen` (same inode, size and change
   * time), under a per-key lock so that two processes never remove a file the other just put in
   * place. Returns whether it removed it. A busy lock means another process is at it: false.
   */
  private async removeIfUnchanged(path: string, seen: BigIntStats): Promise<boolean> {
    const lock = lockFileName(path)
    if (!(await this.tryLock(lock))) return false
    try {
      let current: BigIntStats
      try {
        current = await stat(path, { bigint: true })
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return false
        throw error
      }
      if (current.ino !== seen.ino || current.dev !== seen.dev || current.size !== seen.size || current.ctimeNs !== seen.ctimeNs) return false
      await unlink(path)
      return true
    } finally {
      await rmdir(lock).catch(() => undefined)
    }
  }

  private async tryLock(lock: string): Promise<boolean> {
    try {
      await mkdir(lock)
      return true
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error
    }
    // Left by a crashed process? Break it once.
    const lockStat = await stat(lock).catch(() => undefined)
    if (lockStat === undefined || Date.now() - lockStat.mtimeMs < STALE_LOCK_MS) return false
    await rmdir(lock).catch(() => undefined)
    try {
      await mkdir(lock)
      return true
    } catch {
      return false
    }
  }

  /** Removes a temp file or lock left over by a crashed process (old enough not to be in use). */
  private async sweepTransient(name: string): Promise<void> {
    const path = join(this.dir, name)
    const s = await stat(path).catch(() => undefined)
    if (s === undefined) return
    const isLock = name.endsWith('.lock')
    if (Date.now() - s.mtimeMs < (isLock ? STALE_LOCK_MS : STALE_TEMP_MS)) return
    await (isLock ? rmdir(path) : unlink(path)).catch(ignoreMissing)
  }

  private async list(): Promise<string[]> {
    try {
      return await readdir(this.dir)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return []
      throw error
    }
  }
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error
}
