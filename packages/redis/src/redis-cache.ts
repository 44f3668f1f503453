import { randomUUID } from 'node:crypto'
import {
  checkOptionKeys,
  decodeEntry,
  encodeEntry,
  parseDuration,
  resolveSerializer,
  SerializationError,
  StoreErrorPolicy,
  TimeoutError,
  WireFormatError,
  type CacheEntry,
  type CacheLock,
  type CacheStorage,
  type LockingStorage,
  type RemoteStoreOptions,
  type Serializer,
} from '@acache/core'
import { ErrorReply, RESP_TYPES } from 'redis'
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js'
import { ClusterRouter } from './cluster-router.js'
import { DeadlineSweeper, type DeadlineTicket } from './deadline-sweeper.js'
import { CircuitOpenError, RedisUnavailableError } from './errors.js'
import { DEDUPE_SET, RELEASE_LOCK, RENEW_LOCK } from './lua-scripts.js'
import { isCluster, type ClusterNodeLike, type RedisClientLike, type RedisClusterLike, type RedisCommands } from './redis-client.js'

/** Options of {@link RedisCache}; the shared ones (`onError`, `metrics`, `logger`, `serializer`, `name`) come from `RemoteStoreOptions`. */
export interface RedisCacheOptions extends RemoteStoreOptions {
  /** Prepended to every key (`'app:'`). Default `''` (then `clear()` refuses to run unless told to flush the database). */
  prefix?: string
  /** Writing the value already stored does not rewrite it: only its timestamps and TTL are refreshed. Default `false`. */
  dedupeWrites?: boolean
  /** Deadline of every operation, in seconds (`0.5`) or a duration string (`'500ms'`). Default `'500ms'`. `0` = none (node-redis's own 5 s command timeout then applies, which does not cover a hung server). */
  timeout?: number | string
  /** Circuit breaker: `{ failures: 5, cooldown: 5 }` by default (cooldown in seconds or a duration string); `false` turns it off. */
  breaker?: { failures?: number; cooldown?: number | string } | false
}

/** Options of {@link RedisCache.clear}. */
export interface RedisClearOptions {
  /** With an empty prefix, `clear()` refuses to run unless this is `true`: it then empties the whole database (`FLUSHDB`). */
  flushDatabase?: boolean
}

const OPTION_KEYS = ['prefix', 'serializer', 'dedupeWrites', 'onError', 'timeout', 'breaker', 'metrics', 'logger', 'name']
const BUFFER_REPLIES = { [RESP_TYPES.BLOB_STRING]: Buffer }
/** Lock keys live in their own namespace under the prefix; entry keys never start with it. */
export const LOCK_NAMESPACE = '__acache_lock__:'
const SCAN_COUNT = 1000

const identity = <T>(x: T): T => x
const rethrow = (error: unknown): never => {
  throw error
}

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** Seconds → whole milliseconds for PX, never rounding a positive TTL down to "no expiry". */
const toMs = (seconds: number): number => Math.max(1, Math.ceil(seconds * 1000))

function checkTtl(ttl: unknown, where: string): number {
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0) {
    throw new TypeError(`${where}: ttl must be a number of seconds >= 0 (got ${String(ttl)})`)
  }
  return ttl
}

/** Whether `error` says Redis is unreachable or hung (what the breaker counts), not that it answered with an error. */
function isAvailabilityError(error: unknown): boolean {
  return !(error instanceof ErrorReply)
}

/** Glob-escapes a prefix for SCAN MATCH. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&')

/**
 * A Redis store over a node-redis client (`createClient()` or `createCluster()`), built to degrade
 * rather than hang:
 *
 * - values are stored binary-safe in the acache wire format (`[freshUntil f64][createdAt f64][value]`),
 *   readable by the Python `advanced-caching` library with the same prefix and serializer;
 * - physical TTLs are milliseconds (`PX`), so fractional seconds are honoured; ttl 0 = no expiry;
 * - every operation has a deadline (`timeout`, default 500 ms) enforced by the store itself — a
 *   hung server costs a caller at most the deadline — and a circuit breaker skips Redis at once
 *   after a run of failures, probing again after the cool-down (5 s) or as soon as the client reconnects;
 * - failures are reported through `onError` / `metrics` / a rate-limited warning and degrade
 *   (a failed read is a miss, a failed write is skipped) unless `onError: 'raise'`;
 * - `setIfNotExists` is atomic (`SET NX PX`), `getMany` is one `MGET`, `setMany` one pipeline,
 *   `clear()` removes only keys under the prefix (`SCAN` + `UNLINK`);
 * - on a cluster (`createCluster()`), multi-key operations are split by hash slot (one `MGET` per
 *   slot, pipelined per node), `clear()` scans every master, and the breaker and the "not
 *   connected" refusal apply per master, so a failing shard does not switch off the others;
 * - `tryLock` gives `cache(ttl, { lock: true })` a distributed lock (single flight across processes).
 *
 * The store attaches an `error` listener to the client (a reconnecting node-redis client without one
 * crashes the process). It never closes the client: the caller owns it. Call {@link RedisCache.close}
 * to stop the store's timers and listeners.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { cache } from '@acache/core'
 * import { RedisCache } from '@acache/redis'
 *
 * const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect()
 * const store = new RedisCache(client, { prefix: 'users:', timeout: '250ms' })
 * const getUser = cache(60, { key: 'user:{id}', store })(async (id: number) => db.fetchUser(id))
 * ```
 */
export class RedisCache implements CacheStorage, LockingStorage {
  readonly prefix: string
  readonly serializer: Serializer
  readonly dedupeWrites: boolean
  /** The deadline in ms (0 = none). */
  readonly timeoutMs: number
  /** The store's error policy (how failures are reported and whether they reach the caller). */
  readonly errors: StoreErrorPolicy
  private readonly cmd: RedisCommands
  /** The breaker of a single client (a cluster has one per master, in the router). */
  private readonly breaker: CircuitBreaker | undefined
  private readonly router: ClusterRouter | undefined
  private readonly sweeper: DeadlineSweeper | undefined
  /**
   * Whether a GET may skip node-redis's command layer (`sendCommand`): on a single client without a
   * client-level `keyPrefix`, which only node-redis's typed commands apply.
   */
  private readonly rawGet: boolean
  /** The client's own `keyPrefix` (node-redis option), which typed commands add to every key. */
  private readonly clientKeyPrefix: string
  private readonly locks = new Set<RedisLock>()
  private closed = false

  constructor(
    readonly client: RedisClientLike,
    options: RedisCacheOptions = {},
  ) {
    if (client === null || typeof client !== 'object' || typeof client.withCommandOptions !== 'function') {
      throw new TypeError('RedisCache: the first argument must be a node-redis client (createClient() or createCluster())')
    }
    checkOptionKeys('RedisCache', options, OPTION_KEYS)
    const { prefix = '', dedupeWrites = false, timeout = '500ms', breaker = {} } = options
    if (typeof prefix !== 'string') throw new TypeError('RedisCache: option "prefix" must be a string')
    if (typeof dedupeWrites !== 'boolean') throw new TypeError('RedisCache: option "dedupeWrites" must be a boolean')
    this.prefix = prefix
    this.dedupeWrites = dedupeWrites
    this.serializer = resolveSerializer(options.serializer, 'RedisCache serializer')
    this.timeoutMs = Math.round(parseDuration(timeout, 'timeout') * 1000)
    this.errors = new StoreErrorPolicy(options.name ?? 'RedisCache', {
      onError: options.onError,
      metrics: options.metrics,
      logger: options.logger,
    })
    let breakerOptions: CircuitBreakerOptions | undefined
    if (breaker !== false) {
      if (breaker === null || typeof breaker !== 'object') {
        throw new TypeError('RedisCache: option "breaker" must be { failures?, cooldown? } or false')
      }
      checkOptionKeys('RedisCache breaker', breaker, ['failures', 'cooldown'])
      breakerOptions = { failures: breaker.failures }
      if (breaker.cooldown !== undefined) breakerOptions.cooldown = parseDuration(breaker.cooldown, 'breaker.cooldown')
      new CircuitBreaker(breakerOptions) // validates the options now, for a cluster too
    }
    if (isCluster(client)) this.router = new ClusterRouter(client, breakerOptions)
    else if (breakerOptions !== undefined) this.breaker = new CircuitBreaker(breakerOptions)
    if (this.timeoutMs > 0) {
      this.sweeper = new DeadlineSweeper(this.timeoutMs, (ms) => new TimeoutError(`${this.errors.name}: Redis did not answer within ${ms} ms`))
    }
    // Our own deadline replaces node-redis's per-command timeout (an AbortSignal.timeout per
    // command, which costs several times the command at pipelined rates and cannot end a command
    // already written to a hung socket anyway).
    this.cmd = client.withCommandOptions(this.commandOptions()) as RedisCommands
    const keyPrefix = (client as { _keyPrefix?: unknown })._keyPrefix
    this.clientKeyPrefix = typeof keyPrefix === 'string' ? keyPrefix : ''
    this.rawGet = this.router === undefined && keyPrefix === undefined
    client.on('error', this.onClientError)
    // A cluster client emits `error` for topology discovery only; its nodes' connections report
    // through `node-error` / `node-ready`.
    if (this.router !== undefined) {
      client.on('node-error', this.onClientError)
      client.on('node-ready', this.onClientReady)
    } else {
      client.on('ready', this.onClientReady)
    }
  }

  /** The circuit breaker's state (`'closed'` when it is turned off); on a cluster, the worst of the masters' breakers. */
  get circuitState(): CircuitState {
    return this.router?.state ?? this.breaker?.state ?? 'closed'
  }

  private readonly onClientError = (error: unknown): void => {
    this.errors.report(error, 'connection')
  }

  // A reconnected client is worth probing now rather than at the end of the cool-down.
  private readonly onClientReady = (): void => {
    this.breaker?.probeNow()
    this.router?.probeNow()
  }

  /**
   * Sends one operation to Redis and settles with `onReply(reply)` or `onError(error)` — one promise
   * per operation (every extra `.then` layer shows at pipelined rates). Refused at once when the
   * client is not connected or the breaker is open; bounded by the deadline; counted by the breaker.
   * On a cluster, `node` is the master the operation goes to ({@link nodeOf}; `null` when no master
   * serves the key): its connection and its breaker are the ones that count.
   */
  private run<T, R>(
    operation: (cmd: RedisCommands) => Promise<T>,
    onReply: (reply: T) => R,
    onError: (error: unknown) => R,
    node?: ClusterNodeLike | null,
  ): Promise<R> {
    const breaker = node === undefined || node === null ? this.breaker : this.router!.breakerOf(node.address)
    const refusal = this.refusal(node, breaker)
    if (refusal !== undefined) {
      try {
        return Promise.resolve(onError(refusal))
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const sweeper = this.sweeper
    return new Promise<R>((resolve, reject) => {
      let done = false
      let ticket: DeadlineTicket | undefined
      const fail = (error: unknown): void => {
        if (done) return
        done = true
        if (ticket !== undefined) sweeper!.untrack(ticket)
        if (breaker !== undefined) {
          if (isAvailabilityError(error)) breaker.failure()
          else breaker.success()
        }
        try {
          resolve(onError(error))
        } catch (raised) {
          reject(raised)
        }
      }
      let reply: Promise<T>
      try {
        reply = operation(this.cmd)
      } catch (error) {
        fail(error)
        return
      }
      reply.then((value) => {
        if (done) return
        done = true
        if (ticket !== undefined) sweeper!.untrack(ticket)
        breaker?.success()
        try {
          resolve(onReply(value))
        } catch (error) {
          reject(error)
        }
      }, fail)
      if (sweeper !== undefined) ticket = sweeper.track(fail)
    })
  }

  private send<T>(operation: (cmd: RedisCommands) => Promise<T>, node?: ClusterNodeLike | null): Promise<T> {
    return this.run(operation, identity, rethrow, node)
  }

  /** On a cluster, the master serving the full key `k` (`null` if none); `undefined` on a single client. */
  private nodeOf(k: string | Uint8Array): ClusterNodeLike | null | undefined {
    return this.router?.masterOf(k)
  }

  /** Why Redis cannot be asked right now, if it cannot. */
  private refusal(node: ClusterNodeLike | null | undefined, breaker: CircuitBreaker | undefined): Error | undefined {
    if (this.closed) return new RedisUnavailableError(`${this.errors.name} is closed`)
    // Commands issued while disconnected would wait in node-redis's offline queue and run later,
    // after their caller was told they failed: refuse them instead.
    if (!this.client.isReady) return new RedisUnavailableError(`${this.errors.name}: the Redis client is not connected`)
    if (node === null) return new RedisUnavailableError(`${this.errors.name}: no cluster master serves this key's hash slot`)
    if (node !== undefined && ClusterRouter.reconnecting(node)) {
      return new RedisUnavailableError(`${this.errors.name}: the connection to cluster node ${node.address} is down`)
    }
    if (breaker !== undefined && !breaker.allow()) {
      const where = node === undefined ? '' : ` (cluster node ${node.address})`
      return new CircuitOpenError(`${this.errors.name}: circuit open after repeated failures${where}; skipping Redis`)
    }
    return undefined
  }

  private decode(key: string, bytes: Buffer | null): CacheEntry | undefined {
    if (bytes === null || bytes === undefined) return undefined
    try {
      return decodeEntry(bytes, this.serializer)
    } catch (error) {
      // Corruption (or an entry written with another serializer) is a miss, never a crash.
      this.errors.report(error, 'decode', key)
      return undefined
    }
  }

  private encode(key: string, entry: CacheEntry): Buffer {
    try {
      return toBuffer(encodeEntry(entry, this.serializer))
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const Kind = error instanceof WireFormatError ? WireFormatError : SerializationError
      throw new Kind(`${this.errors.name}: cannot store key ${JSON.stringify(key)}: ${reason}`, { cause: error })
    }
  }

  // ---------------------------------------------------------------- reads

  getEntry(key: string): Promise<CacheEntry | undefined> {
    return this.read(key, 'getEntry') as Promise<CacheEntry | undefined>
  }

  get(key: string): Promise<unknown | undefined> {
    return this.read(key, 'get')
  }

  /**
   * A GET, answering the decoded entry (`getEntry`) or its value (`get`): {@link run} for the hot
   * path of every hit, without per-call closures for the command and its outcomes. When it can
   * ({@link rawGet}), the command goes through `sendCommand`: `client.get()` adds node-redis's
   * command layers (two more async functions, each resolving with the reply `Buffer`), which cost
   * more than everything else a hit does.
   */
  private read(key: string, operation: 'get' | 'getEntry'): Promise<unknown> {
    const k = this.prefix + key
    const node = this.nodeOf(k)
    const breaker = node === undefined || node === null ? this.breaker : this.router!.breakerOf(node.address)
    const refusal = this.refusal(node, breaker)
    if (refusal !== undefined) {
      try {
        return Promise.resolve(this.errors.fail(refusal, operation, key, undefined))
      } catch (error) {
        return Promise.reject(error)
      }
    }
    let reply: Promise<Buffer | null>
    try {
      reply = this.rawGet ? (this.cmd.sendCommand(['GET', k]) as Promise<Buffer | null>) : this.cmd.get(k)
    } catch (error) {
      reply = Promise.reject(error)
    }
    const sweeper = this.sweeper
    return new Promise<unknown>((resolve, reject) => {
      let done = false
      let ticket: DeadlineTicket | undefined
      const fail = (error: unknown): void => {
        if (done) return
        done = true
        if (ticket !== undefined) sweeper!.untrack(ticket)
        if (breaker !== undefined) {
          if (isAvailabilityError(error)) breaker.failure()
          else breaker.success()
        }
        try {
          resolve(this.errors.fail(error, operation, key, undefined))
        } catch (raised) {
          reject(raised)
        }
      }
      reply.then((bytes) => {
        if (done) return
        done = true
        if (ticket !== undefined) sweeper!.untrack(ticket)
        breaker?.success()
        const entry = this.decode(key, bytes)
        resolve(operation === 'get' ? entry?.value : entry)
      }, fail)
      if (sweeper !== undefined) ticket = sweeper.track(fail)
    })
  }

  exists(key: string): Promise<boolean> {
    const k = this.prefix + key
    return this.run(
      (c) => c.exists(k),
      (n) => n > 0,
      (error: unknown) => this.errors.fail(error, 'exists', key, false),
      this.nodeOf(k),
    )
  }

  /**
   * One `MGET`. On a cluster: one `MGET` per hash slot (a `GET` for a slot with one key), sent
   * together so node-redis pipelines them per node; a master that fails costs only its own keys
   * (misses, reported) — the others are still returned.
   */
  getMany(keys: string[]): Promise<Map<string, unknown>> {
    if (!Array.isArray(keys)) return Promise.reject(new TypeError(`${this.errors.name}.getMany: keys must be an array of strings`))
    const wanted = [...new Set(keys)]
    if (wanted.length === 0) return Promise.resolve(new Map())
    const prefixed = wanted.map((k) => this.prefix + k)
    const out = new Map<string, unknown>()
    const collect = (indices: number[], replies: Array<Buffer | null>): void => {
      for (let j = 0; j < indices.length; j++) {
        const key = wanted[indices[j]]
        const entry = this.decode(key, replies[j])
        if (entry !== undefined) out.set(key, entry.value)
      }
    }
    const label = (indices: number[]) => indices.map((i) => wanted[i]).join(' ').slice(0, 200)
    if (this.router === undefined) {
      const all = wanted.map((_, i) => i)
      return this.run(
        (c) => c.mGet(prefixed),
        (replies) => (collect(all, replies), out),
        (error: unknown) => this.errors.fail(error, 'getMany', label(all), new Map<string, unknown>()),
      )
    }
    const perNode: Array<Promise<unknown>> = []
    for (const [node, bySlot] of this.router.group(prefixed)) {
      const slotGroups = [...bySlot.values()]
      perNode.push(
        this.run(
          (c) => Promise.all(slotGroups.map((indices) => (indices.length === 1 ? c.get(prefixed[indices[0]]).then((b) => [b]) : c.mGet(indices.map((i) => prefixed[i]))))),
          (replies) => {
            for (let g = 0; g < slotGroups.length; g++) collect(slotGroups[g], replies[g])
          },
          (error: unknown) => this.errors.fail(error, 'getMany', label(slotGroups.flat()), undefined),
          node,
        ),
      )
    }
    return Promise.all(perNode).then(() => out)
  }

  // ---------------------------------------------------------------- writes

  set(key: string, value: unknown, ttl: number): Promise<void> {
    try {
      if (value === undefined) throw new TypeError(`${this.errors.name}.set: cannot store undefined (key ${JSON.stringify(key)})`)
      checkTtl(ttl, `${this.errors.name}.set`)
    } catch (error) {
      return Promise.reject(error)
    }
    const now = Date.now() / 1000
    return this.write('set', key, { value, createdAt: now, freshUntil: ttl > 0 ? now + ttl : Infinity }, ttl)
  }

  setEntry(key: string, entry: CacheEntry, ttl?: number): Promise<void> {
    let physical: number
    try {
      if (entry === null || typeof entry !== 'object') throw new TypeError(`${this.errors.name}.setEntry: entry must be an object`)
      if (entry.value === undefined) throw new TypeError(`${this.errors.name}.setEntry: cannot store undefined (key ${JSON.stringify(key)})`)
      physical =
        ttl === undefined
          ? entry.freshUntil === Infinity
            ? 0
            : Math.max(entry.freshUntil - Date.now() / 1000, 0.001)
          : checkTtl(ttl, `${this.errors.name}.setEntry`)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.write('setEntry', key, entry, physical)
  }

  private write(operation: string, key: string, entry: CacheEntry, ttl: number): Promise<void> {
    let bytes: Buffer
    try {
      bytes = this.encode(key, entry)
    } catch (error) {
      return this.failed(error, operation, key)
    }
    const k = this.prefix + key
    const send = this.dedupeWrites
      ? (c: RedisCommands) => c.eval(DEDUPE_SET, { keys: [k], arguments: [bytes, ttl > 0 ? String(toMs(ttl)) : '0'] })
      : (c: RedisCommands) => c.set(k, bytes, ttl > 0 ? { PX: toMs(ttl) } : undefined)
    return this.run(
      send,
      () => undefined,
      (error: unknown) => this.errors.fail(error, operation, key, undefined),
      this.nodeOf(k),
    )
  }

  /** A failure through the policy, as a promise (rejected with `'raise'`). */
  private failed(error: unknown, operation: string, key: string | undefined): Promise<void> {
    try {
      return Promise.resolve(this.errors.fail(error, operation, key, undefined))
    } catch (raised) {
      return Promise.reject(raised)
    }
  }

  /** Atomic: `SET NX PX`. */
  setIfNotExists(key: string, value: unknown, ttl: number): Promise<boolean> {
    let bytes: Buffer
    try {
      if (value === undefined) throw new TypeError(`${this.errors.name}.setIfNotExists: cannot store undefined (key ${JSON.stringify(key)})`)
      checkTtl(ttl, `${this.errors.name}.setIfNotExists`)
    } catch (error) {
      return Promise.reject(error)
    }
    const now = Date.now() / 1000
    try {
      bytes = this.encode(key, { value, createdAt: now, freshUntil: ttl > 0 ? now + ttl : Infinity })
    } catch (error) {
      return this.failed(error, 'setIfNotExists', key).then(() => false)
    }
    const k = this.prefix + key
    const options = ttl > 0 ? { NX: true, PX: toMs(ttl) } : { NX: true }
    return this.run(
      (c) => c.set(k, bytes, options),
      (reply) => reply !== null && reply !== undefined,
      (error: unknown) => this.errors.fail(error, 'setIfNotExists', key, false),
      this.nodeOf(k),
    )
  }

  /**
   * One pipeline. On a cluster: per-key `SET`s sent together (node-redis pipelines them per node);
   * a master that fails costs only its own keys (not written, reported).
   */
  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): Promise<void> {
    let pairs: Array<[string, unknown]>
    try {
      checkTtl(ttl, `${this.errors.name}.setMany`)
      if (items === null || typeof items !== 'object') throw new TypeError(`${this.errors.name}.setMany: items must be a Map or an object`)
      pairs = Object.prototype.toString.call(items) === '[object Map]' ? [...(items as Map<string, unknown>)] : Object.entries(items)
      for (const [k, v] of pairs) {
        if (v === undefined) throw new TypeError(`${this.errors.name}.setMany: cannot store undefined (key ${JSON.stringify(k)})`)
      }
    } catch (error) {
      return Promise.reject(error)
    }
    if (pairs.length === 0) return Promise.resolve()
    const now = Date.now() / 1000
    const freshUntil = ttl > 0 ? now + ttl : Infinity
    const encoded: Array<[string, Buffer]> = []
    for (const [key, value] of pairs) {
      try {
        encoded.push([this.prefix + key, this.encode(key, { value, createdAt: now, freshUntil })])
      } catch (error) {
        return this.failed(error, 'setMany', key)
      }
    }
    const px = ttl > 0 ? toMs(ttl) : 0
    const options = px > 0 ? { PX: px } : undefined
    const label = (indices: number[]) => indices.map((i) => pairs[i][0]).join(' ').slice(0, 200)
    if (this.router === undefined) {
      const send = (c: RedisCommands): Promise<unknown> => {
        const pipeline = c.multi()
        for (const [k, b] of encoded) {
          if (this.dedupeWrites) pipeline.eval(DEDUPE_SET, { keys: [k], arguments: [b, String(px)] })
          else pipeline.set(k, b, options)
        }
        return pipeline.execAsPipeline()
      }
      return this.run(
        send,
        () => undefined,
        (error: unknown) => this.errors.fail(error, 'setMany', label(pairs.map((_, i) => i)), undefined),
      )
    }
    const perNode: Array<Promise<void>> = []
    for (const [node, bySlot] of this.router.group(encoded.map(([k]) => k))) {
      const indices = [...bySlot.values()].flat()
      const send = (c: RedisCommands): Promise<unknown> =>
        Promise.all(
          indices.map((i) => {
            const [k, b] = encoded[i]
            return this.dedupeWrites ? c.eval(DEDUPE_SET, { keys: [k], arguments: [b, String(px)] }) : c.set(k, b, options)
          }),
        )
      perNode.push(
        this.run(
          send,
          () => undefined,
          (error: unknown) => this.errors.fail(error, 'setMany', label(indices), undefined),
          node,
        ),
      )
    }
    return Promise.all(perNode).then(() => undefined)
  }

  delete(key: string): Promise<void> {
    const k = this.prefix + key
    return this.run(
      (c) => c.unlink(k),
      () => undefined,
      (error: unknown) => this.errors.fail(error, 'delete', key, undefined),
      this.nodeOf(k),
    )
  }

  /**
   * Removes the keys under the prefix (`SCAN MATCH prefix*` + `UNLINK`), lock keys included. On a
   * cluster, every master is scanned and each page is unlinked one hash slot at a time; a master
   * that fails is reported after the others were cleared. With an empty prefix it refuses (a usage
   * error, reported through `onError`) unless `{ flushDatabase: true }` is passed, which empties
   * the database (`FLUSHDB`, on every master of a cluster).
   *
   * @example
   * ```ts
   * await new RedisCache(client, { prefix: 'app:' }).clear()          // app:* only
   * await new RedisCache(client).clear({ flushDatabase: true })      // the whole database
   * ```
   */
  async clear(options: RedisClearOptions = {}): Promise<void> {
    if (this.prefix === '' && options.flushDatabase !== true) {
      const error = new TypeError(
        `${this.errors.name}.clear(): refusing to clear with an empty prefix (it would remove every key of the database); ` +
          'give the store a prefix, or call clear({ flushDatabase: true }) to empty the database on purpose',
      )
      return this.failed(error, 'clear', undefined)
    }
    if (this.router === undefined) {
      try {
        await this.clearNode(this.cmd, undefined)
      } catch (error) {
        return this.failed(error, 'clear', undefined)
      }
      return
    }
    const cluster = this.client as RedisClusterLike
    let firstError: unknown
    for (const master of [...cluster.masters]) {
      try {
        if (ClusterRouter.reconnecting(master)) {
          throw new RedisUnavailableError(`${this.errors.name}: the connection to cluster node ${master.address} is down`)
        }
        const view = (await cluster.nodeClient(master)).withCommandOptions(this.commandOptions()) as RedisCommands
        await this.clearNode(view, master)
      } catch (error) {
        firstError ??= error
      }
    }
    if (firstError !== undefined) return this.failed(firstError, 'clear', undefined)
  }

  /** Clears one server: `node` is the client (a cluster master's own connection) and, on a cluster, its slot-map node. */
  private async clearNode(node: RedisCommands, master: ClusterNodeLike | undefined): Promise<void> {
    if (this.prefix === '') {
      await this.send(() => node.flushDb(), master)
      return
    }
    // A client-level `keyPrefix` is added by node-redis to the keys of typed commands (UNLINK) but
    // not to a SCAN pattern nor stripped from its replies: match on the full name, unlink without it.
    const clientPrefix = this.clientKeyPrefix
    const match = globEscape(clientPrefix + this.prefix) + '*'
    const prefixBytes = Buffer.byteLength(clientPrefix)
    const own = (full: Buffer): Buffer => full.subarray(prefixBytes)
    let cursor = '0'
    do {
      const page = await this.send(() => node.scan(cursor, { MATCH: match, COUNT: SCAN_COUNT }), master)
      cursor = String(page.cursor)
      if (page.keys.length === 0) continue
      if (this.router === undefined) {
        await this.send(() => node.unlink(clientPrefix === '' ? page.keys : page.keys.map(own)))
        continue
      }
      // A page holds keys of many slots; a multi-key UNLINK must stay within one. Through the
      // cluster client, so a slot that moved meanwhile follows its MOVED redirect.
      const groups = this.router.group(page.keys)
      const unlinks: Array<Promise<number>> = []
      for (const [owner, bySlot] of groups) {
        for (const indices of bySlot.values()) unlinks.push(this.send((c) => c.unlink(indices.map((i) => own(page.keys[i]))), owner))
      }
      await Promise.all(unlinks)
    } while (cursor !== '0')
  }

  /** The command options of the store's connection view(s). */
  private commandOptions(): object {
    return this.timeoutMs > 0 ? { typeMapping: BUFFER_REPLIES, timeout: 0 } : { typeMapping: BUFFER_REPLIES }
  }

  // ---------------------------------------------------------------- distributed lock

  /** The Redis key of `key`'s lock. */
  lockKey(key: string): string {
    return this.prefix + LOCK_NAMESPACE + key
  }

  /**
   * Tries once to take the lock of `key` for `timeout` seconds: `SET <lock key> <random token> NX PX`.
   * While held, a heartbeat every `timeout / 3` resets its TTL to `timeout` (compare-and-`PEXPIRE`,
   * so it never grows beyond it and never renews someone else's lock). `release()` deletes it only
   * if it is still ours (compare-and-delete). Resolves to `null` when another holder has it; rejects
   * when Redis is unavailable (whatever `onError` says — the caller decides, e.g. runs the loader locally).
   *
   * @example
   * ```ts
   * const lock = await store.tryLock('report:2024', 30)
   * if (lock) try { await build() } finally { await lock.release() }
   * ```
   */
  tryLock(key: string, timeout: number): Promise<CacheLock | null> {
    if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
      return Promise.reject(new TypeError(`${this.errors.name}.tryLock: timeout must be a number of seconds > 0 (got ${String(timeout)})`))
    }
    const k = this.lockKey(key)
    const token = randomUUID()
    const ms = toMs(timeout)
    return this.send((c) => c.set(k, Buffer.from(token), { NX: true, PX: ms }), this.nodeOf(k)).then((reply) => {
      if (reply === null || reply === undefined) return null
      const lock = new RedisLock(this, key, k, token, ms)
      this.locks.add(lock)
      return lock
    })
  }

  /** @internal Renews a lock; resolves to whether it is still ours. */
  renewLock(lockKey: string, token: string, ms: number): Promise<boolean> {
    return this.send((c) => c.eval(RENEW_LOCK, { keys: [lockKey], arguments: [token, String(ms)] }), this.nodeOf(lockKey)).then((n) => Number(n) === 1)
  }

  /** @internal */
  releaseLock(lock: RedisLock, lockKey: string, token: string): Promise<void> {
    this.locks.delete(lock)
    return this.send((c) => c.eval(RELEASE_LOCK, { keys: [lockKey], arguments: [token] }), this.nodeOf(lockKey)).then(() => undefined)
  }

  /**
   * Stops the store's timers (deadline sweeper, lock heartbeats) and removes its client listeners.
   * Pending operations fail with a timeout; later ones fail as unavailable. The client stays open
   * (the caller owns it). Idempotent.
   *
   * @example
   * ```ts
   * store.close()
   * await client.close()
   * ```
   */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const lock of this.locks) lock.stopHeartbeat()
    this.locks.clear()
    this.sweeper?.stop()
    this.client.removeListener('error', this.onClientError)
    this.client.removeListener('ready', this.onClientReady)
    this.client.removeListener('node-error', this.onClientError)
    this.client.removeListener('node-ready', this.onClientReady)
  }
}

/**
 * A lock held through {@link RedisCache.tryLock}. Its heartbeat keeps the lock alive (TTL reset to
 * the timeout) until `release()`, or until it finds the lock lost (expired and taken by another).
 */
class RedisLock implements CacheLock {
  private timer: ReturnType<typeof setInterval> | undefined
  private released = false

  constructor(
    private readonly store: RedisCache,
    private readonly key: string,
    private readonly lockKey: string,
    private readonly token: string,
    private readonly ms: number,
  ) {
    this.timer = setInterval(() => this.beat(), Math.max(1, Math.floor(ms / 3)))
    this.timer.unref()
  }

  private beat(): void {
    this.store.renewLock(this.lockKey, this.token, this.ms).then(
      (ours) => {
        if (!ours) this.stopHeartbeat() // expired and maybe taken: never renew someone else's lock
      },
      (error: unknown) => this.store.errors.report(error, 'lock heartbeat', this.key),
    )
  }

  stopHeartbeat(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  release(): Promise<void> {
    this.stopHeartbeat()
    if (this.released) return Promise.resolve()
    this.released = true
    // Never rejects: a lock we cannot delete expires on its own.
    return this.store.releaseLock(this, this.lockKey, this.token).catch((error: unknown) => {
      this.store.errors.report(error, 'lock release', this.key)
    })
  }
}
