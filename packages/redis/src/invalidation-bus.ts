import { randomUUID } from 'node:crypto'
import { checkOptionKeys, parseDuration, StoreErrorPolicy, TimeoutError, type InvalidationBus, type InvalidationMessage, type StoreErrorMode, type StoreErrorPolicyOptions } from '@acache/core'
import { readyMaster } from './cluster-router.js'
import { DeadlineSweeper } from './deadline-sweeper.js'
import { isCluster, type RedisClientLike } from './redis-client.js'

/** Options of {@link RedisInvalidationBus}. */
export interface RedisInvalidationBusOptions extends StoreErrorPolicyOptions {
  /** The pub/sub channel. Default `'acache:invalidate'`; `HybridCache.fromRedis` uses `'acache:invalidate:<prefix>'`. */
  channel?: string
  /** Deadline of a publish, in seconds or a duration string. Default `'500ms'`. */
  timeout?: number | string
  /** Receives subscriber-connection failures and undecodable messages (they never throw). Default `'silent'` (a rate-limited warning). */
  onError?: StoreErrorMode
}

interface WireMessage {
  /** The publishing bus instance: a bus ignores its own messages. */
  src: string
  keys?: string[]
  clear?: true
}

interface SubscriberClient extends RedisClientLike {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  close?(): Promise<unknown>
  destroy(): void
}

interface PublisherClient {
  publish(channel: string, message: string): Promise<unknown>
}

/**
 * An {@link InvalidationBus} over Redis pub/sub, carrying keys (never values) between the processes
 * of a `HybridCache`. Publishing goes through the given client; receiving uses its own connection
 * (`client.duplicate()`, opened on the first `subscribe`), which node-redis resubscribes after a
 * reconnect. Messages published while the subscriber was disconnected are lost, so a reconnect
 * is delivered to listeners as "clear" (L1 is dropped rather than trusted).
 *
 * On a Redis Cluster it uses classic `PUBLISH`/`SUBSCRIBE`, which the cluster forwards to every
 * node: a subscriber receives every message whichever node it is connected to. Messages are
 * published through a master whose connection is up (taken in turn); the subscriber is a
 * `cluster.duplicate({ minimizeConnections: true })` that holds one pub/sub connection, moved to
 * another node by node-redis when its node leaves the cluster (an L1 "clear" follows).
 *
 * @example
 * ```ts
 * const bus = new RedisInvalidationBus(client, { channel: 'acache:invalidate:users:' })
 * const store = new HybridCache({ l2Cache: new RedisCache(client, { prefix: 'users:' }), bus })
 * await bus.ready          // subscribed
 * await bus.close()
 * ```
 */
export class RedisInvalidationBus implements InvalidationBus {
  readonly channel: string
  /** This instance's id; messages carrying it are ignored. */
  readonly id = randomUUID()
  private readonly errors: StoreErrorPolicy
  private readonly sweeper: DeadlineSweeper
  private readonly listeners = new Set<(message: InvalidationMessage) => void>()
  private subscriber: SubscriberClient | undefined
  private subscribed: Promise<void> | undefined
  private connectedOnce = false
  private closed = false
  private turn = 0

  constructor(
    private readonly client: RedisClientLike,
    options: RedisInvalidationBusOptions = {},
  ) {
    if (client === null || typeof client !== 'object' || typeof client.duplicate !== 'function') {
      throw new TypeError('RedisInvalidationBus: the first argument must be a node-redis client')
    }
    checkOptionKeys('RedisInvalidationBus', options, ['channel', 'timeout', 'onError', 'metrics', 'logger'])
    const { channel = 'acache:invalidate', timeout = '500ms' } = options
    if (typeof channel !== 'string' || channel === '') throw new TypeError('RedisInvalidationBus: option "channel" must be a non-empty string')
    this.channel = channel
    this.errors = new StoreErrorPolicy('RedisInvalidationBus', { onError: options.onError, metrics: options.metrics, logger: options.logger })
    const ms = Math.max(1, Math.round(parseDuration(timeout, 'timeout', { allowZero: false }) * 1000))
    this.sweeper = new DeadlineSweeper(ms, (t) => new TimeoutError(`RedisInvalidationBus: publish not answered within ${t} ms`))
  }

  /** Resolves once the subscriber connection is subscribed (after the first `subscribe`). */
  get ready(): Promise<void> {
    return this.subscribed ?? Promise.resolve()
  }

  /** Publishes `message` to the other instances. Rejects on failure (a `HybridCache` reports it). */
  publish(message: InvalidationMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('RedisInvalidationBus is closed'))
    if (!this.client.isReady) return Promise.reject(new Error('RedisInvalidationBus: the Redis client is not connected'))
    const wire: WireMessage = 'clear' in message ? { src: this.id, clear: true } : { src: this.id, keys: message.keys }
    let publisher = this.client as unknown as PublisherClient
    if (isCluster(this.client)) {
      // node-redis sends a keyless PUBLISH to any node, replicas and dead masters included: pick a
      // live master instead (the cluster forwards the message to every node).
      const node = readyMaster(this.client, this.turn++)
      if (node === undefined) return Promise.reject(new Error('RedisInvalidationBus: no cluster master is connected'))
      publisher = node.client as unknown as PublisherClient
    }
    const sent = publisher.publish(this.channel, JSON.stringify(wire))
    return this.sweeper.bound(sent).then(() => undefined)
  }

  /** Calls `listener` with other instances' messages. Opens the subscriber connection on first use. */
  subscribe(listener: (message: InvalidationMessage) => void): () => void {
    if (this.closed) throw new Error('RedisInvalidationBus is closed')
    this.listeners.add(listener)
    if (this.subscriber === undefined) this.subscribed = this.start()
    return () => {
      this.listeners.delete(listener)
    }
  }

  private async start(): Promise<void> {
    const cluster = isCluster(this.client)
    // A cluster duplicate need not connect to every master: it only holds the pub/sub connection.
    const sub = (cluster ? this.client.duplicate({ minimizeConnections: true }) : this.client.duplicate()) as SubscriberClient
    this.subscriber = sub
    const onError = (error: unknown) => this.errors.report(error, 'subscriber connection')
    // Anything published while we were away was missed: drop L1 rather than trust it.
    const onReady = () => {
      if (this.connectedOnce) this.deliver({ clear: true })
    }
    sub.on('error', onError)
    if (cluster) {
      sub.on('node-error', onError)
      sub.on('node-ready', onReady) // its pub/sub connection came back, or moved to another node
    } else {
      sub.on('ready', onReady)
    }
    try {
      await sub.connect()
      await sub.subscribe(this.channel, (raw) => this.receive(raw))
      this.connectedOnce = true
    } catch (error) {
      this.errors.report(error, 'subscribe')
    }
  }

  private receive(raw: string): void {
    let wire: WireMessage
    try {
      wire = JSON.parse(raw) as WireMessage
    } catch (error) {
      this.errors.report(error, 'message')
      return
    }
    if (wire === null || typeof wire !== 'object' || wire.src === this.id) return
    if (wire.clear === true) this.deliver({ clear: true })
    else if (Array.isArray(wire.keys)) this.deliver({ keys: wire.keys.filter((k) => typeof k === 'string') })
  }

  private deliver(message: InvalidationMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message)
      } catch (error) {
        this.errors.report(error, 'listener')
      }
    }
  }

  /** Unsubscribes and closes the subscriber connection (not the publishing client). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.listeners.clear()
    this.sweeper.stop()
    const sub = this.subscriber
    if (sub === undefined) return
    await this.subscribed
    try {
      if (sub.isReady) {
        await sub.unsubscribe(this.channel)
        await (sub.close?.() ?? Promise.resolve())
      } else {
        sub.destroy()
      }
    } catch {
      sub.destroy()
    }
  }
}
