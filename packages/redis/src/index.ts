/**
 * @acache/redis — a Redis store for acache over node-redis that degrades instead of hanging:
 * per-operation deadlines, a circuit breaker, a distributed lock for `cache(ttl, { lock: true })`
 * and an L1 invalidation bus for `HybridCache`.
 *
 * @packageDocumentation
 */
export { RedisCache, LOCK_NAMESPACE } from './redis-cache.js'
export type { RedisCacheOptions, RedisClearOptions } from './redis-cache.js'
export { HybridCache } from './hybrid-cache.js'
export type { FromRedisOptions } from './hybrid-cache.js'
export { RedisInvalidationBus } from './invalidation-bus.js'
export type { RedisInvalidationBusOptions } from './invalidation-bus.js'
export { CircuitBreaker } from './circuit-breaker.js'
export type { CircuitBreakerOptions, CircuitState } from './circuit-breaker.js'
export { DeadlineSweeper } from './deadline-sweeper.js'
export type { DeadlineTicket } from './deadline-sweeper.js'
export { RedisUnavailableError, CircuitOpenError } from './errors.js'
export type { RedisClientLike } from './redis-client.js'
