import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js'
import { keySlot } from './key-slot.js'
import type { ClusterNodeLike, RedisClusterLike } from './redis-client.js'

const SEVERITY: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 }

/** Keys of one multi-key operation grouped by the master serving them, then by hash slot. */
export type NodeGroups = Map<ClusterNodeLike | null, Map<number, number[]>>

/**
 * @internal What the store needs to know about a cluster's topology, read from the node-redis
 * cluster client's own slot map (refreshed by node-redis on `MOVED` and after reconnection
 * attempts): which master serves a key, whether that master's connection is up, and one circuit
 * breaker per master — a dead shard must not switch Redis off for the healthy ones.
 *
 * @example
 * ```ts
 * const router = new ClusterRouter(cluster, { failures: 5, cooldown: 5 })
 * const node = router.masterOf('app:user:1')  // null when no master serves the slot
 * ```
 */
export class ClusterRouter {
  private readonly breakers = new Map<string, CircuitBreaker>()

  constructor(
    private readonly cluster: RedisClusterLike,
    private readonly breakerOptions: CircuitBreakerOptions | undefined,
  ) {}

  /** The master serving `key`'s slot, or `null` when none does (cluster not connected, slot unassigned). */
  masterOf(key: string | Uint8Array): ClusterNodeLike | null {
    return this.cluster.slots[keySlot(key)]?.master ?? null
  }

  /** The breaker of the master at `address` (`undefined` when breakers are off). */
  breakerOf(address: string): CircuitBreaker | undefined {
    if (this.breakerOptions === undefined) return undefined
    let breaker = this.breakers.get(address)
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.breakerOptions)
      this.breakers.set(address, breaker)
    }
    return breaker
  }

  /**
   * Whether commands sent to `node` now would wait in the offline queue of a reconnecting
   * connection (a dead master before failover), rather than run or wait for a first connect.
   */
  static reconnecting(node: ClusterNodeLike): boolean {
    return node.client !== undefined && !node.client.isReady && node.connectPromise === undefined
  }

  /** Groups the indices of `keys` by master, then by slot (a multi-key command may span one slot only). */
  group(keys: ReadonlyArray<string | Uint8Array>): NodeGroups {
    const groups: NodeGroups = new Map()
    const slots = this.cluster.slots
    for (let i = 0; i < keys.length; i++) {
      const slot = keySlot(keys[i])
      const node = slots[slot]?.master ?? null
      let bySlot = groups.get(node)
      if (bySlot === undefined) groups.set(node, (bySlot = new Map()))
      const indices = bySlot.get(slot)
      if (indices === undefined) bySlot.set(slot, [i])
      else indices.push(i)
    }
    return groups
  }

  /** A connection is back: every open breaker probes at its next call. */
  probeNow(): void {
    for (const breaker of this.breakers.values()) breaker.probeNow()
  }

  /** The worst state among the current masters' breakers (`'open'` if any shard is skipped). */
  get state(): CircuitState {
    let worst: CircuitState = 'closed'
    for (const master of this.cluster.masters) {
      const state = this.breakers.get(master.address)?.state ?? 'closed'
      if (SEVERITY[state] > SEVERITY[worst]) worst = state
    }
    return worst
  }
}

/**
 * @internal A master whose connection is up, taken in turn (for keyless commands such as
 * `PUBLISH`, which Redis Cluster forwards to every node whichever node receives it); `undefined`
 * when none is.
 */
export function readyMaster(cluster: RedisClusterLike, turn: number): ClusterNodeLike | undefined {
  const masters = cluster.masters
  for (let i = 0; i < masters.length; i++) {
    const node = masters[(turn + i) % masters.length]
    if (node.client?.isReady === true) return node
  }
  return undefined
}
