/**
 * The slice of the node-redis client API the store uses, typed loosely so that clients created
 * with any modules, scripts or RESP version (and cluster clients) are accepted.
 */

/** A node-redis client (`createClient()`) or cluster (`createCluster()`), connected by the caller. */
export interface RedisClientLike {
  on(event: string, listener: (...args: any[]) => void): unknown
  removeListener(event: string, listener: (...args: any[]) => void): unknown
  withCommandOptions(options: any): unknown
  duplicate(...args: any[]): unknown
  readonly isReady: boolean
}

/** @internal The commands called, on a client whose blob strings come back as `Buffer`s. */
export interface RedisCommands {
  /** A raw command on a single client (`['GET', key]`); a cluster's `sendCommand` takes other arguments. */
  sendCommand(args: Array<string | Buffer>): Promise<unknown>
  get(key: string): Promise<Buffer | null>
  mGet(keys: string[]): Promise<Array<Buffer | null>>
  set(key: string, value: Buffer, options?: object): Promise<unknown>
  unlink(keys: string | Buffer | Array<string | Buffer>): Promise<number>
  exists(key: string): Promise<number>
  scan(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: string | Buffer; keys: Buffer[] }>
  eval(script: string, options: { keys: string[]; arguments: Array<string | Buffer> }): Promise<unknown>
  flushDb(): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
  multi(): RedisPipeline
}

/** @internal */
export interface RedisPipeline {
  set(key: string, value: Buffer, options?: object): RedisPipeline
  eval(script: string, options: { keys: string[]; arguments: Array<string | Buffer> }): RedisPipeline
  execAsPipeline(): Promise<unknown[]>
}

/** @internal A node of a cluster client's slot map (`cluster.masters[i]`, `cluster.slots[slot].master`). */
export interface ClusterNodeLike {
  /** `host:port` */
  readonly address: string
  readonly client?: { readonly isReady: boolean }
  readonly connectPromise?: Promise<unknown>
}

/** @internal A cluster client (`createCluster()`): multi-key commands must not assume one hash slot. */
export interface RedisClusterLike extends RedisClientLike {
  readonly masters: ClusterNodeLike[]
  readonly slots: ReadonlyArray<{ master: ClusterNodeLike } | undefined>
  nodeClient(node: ClusterNodeLike): Promise<RedisClientLike>
}

/** @internal */
export function isCluster(client: unknown): client is RedisClusterLike {
  return (
    typeof client === 'object' &&
    client !== null &&
    'masters' in client &&
    'slots' in client &&
    typeof (client as RedisClusterLike).nodeClient === 'function'
  )
}
