/**
 * Redis could not be asked: the client is not connected (it is reconnecting, or was closed), or
 * the circuit breaker is open. Raised at once, without touching the network.
 *
 * @example
 * ```ts
 * new RedisCache(client, { onError: (e) => { if (e instanceof RedisUnavailableError) stats.skipped++ } })
 * ```
 */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError'
}

/**
 * The circuit breaker is open after a run of failures: calls skip Redis until a probe succeeds.
 *
 * @example
 * ```ts
 * if (error instanceof CircuitOpenError) console.log('Redis skipped (breaker open)')
 * ```
 */
export class CircuitOpenError extends RedisUnavailableError {
  override name = 'CircuitOpenError'
}
