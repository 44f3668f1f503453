/**
 * @acache/core — caching for Node.js services: TTL and stale-while-revalidate (`cache`), background
 * refresh (`bg`, `bg.write`, `bg.read`), single-flight, the storage protocol with in-memory, hybrid
 * and chained stores, key templates, the wire format, serializers and metrics. No runtime dependencies.
 *
 * @packageDocumentation
 */
export { cache } from './cache.js'
export type { BatchDecorator, Cached, CachedMembers, CacheDecorator, CacheOptions, Duration, StoreOption } from './cache.js'
export type { LockOption } from './lock-flight.js'
export type { RefreshAheadOption } from './refresh-ahead.js'
export type { TimeoutOption } from './loader-timeout.js'
export { bg } from './bg.js'
export type { Bg, BgFunction, BgOptions, BgReader, BgReadOptions } from './bg.js'
export type { Logger } from './error-reporting.js'
export { checkOptionKeys } from './error-reporting.js'
export { StoreErrorPolicy } from './store-errors.js'
export type { RemoteStoreOptions, StoreErrorMode, StoreErrorPolicyOptions } from './store-errors.js'
export { forEachBounded } from './bounded-concurrency.js'
export { entryState, FRESH, STALE, DEAD, REFRESH_RETRY_SECONDS } from './freshness.js'
export type { EntryState } from './freshness.js'
export { InMemCache, estimateBytes } from './in-mem-cache.js'
export type { InMemCacheOptions } from './in-mem-cache.js'
export { parseDuration } from './duration.js'
export { resetClock } from './clock.js'
export { KeyTemplateError, SerializationError, WireFormatError, TimeoutError } from './errors.js'
export type {
  CacheEntry,
  CacheLock,
  CacheStorage,
  ErrorHandler,
  ErrorInfo,
  InvalidationBus,
  InvalidationMessage,
  LockingStorage,
  MaybePromise,
  MetricsCollector,
  Serializer,
} from './types.js'
export { encodeEntry, decodeEntry, WIRE_HEADER_BYTES } from './wire-format.js'
export { serializers, resolveSerializer } from './serializers.js'
export type { SerializerAlias } from './serializers.js'
export { NULL_METRICS, InMemoryMetrics, METRICS_METHODS } from './metrics.js'
export type { InMemoryMetricsOptions, MetricsStats, CacheCounterStats, LatencyStats, MemoryStats, BackgroundRefreshStats } from './metrics.js'
export { InstrumentedStorage } from './instrumented-storage.js'
export { compileKey, type KeyBuilder, type KeyOption } from './key-template.js'
export { encodeArg, encodeArgs } from './canonical-key.js'
export type { DurationOptions } from './duration.js'
export { validateCacheStorage, resolveStore, supportsLocking } from './store-resolution.js'
export { HybridCache } from './hybrid-cache.js'
export type { HybridCacheOptions } from './hybrid-cache.js'
export { ChainCache } from './chain-cache.js'
export type { ChainCacheOptions, ChainErrorHandler, ChainErrorInfo } from './chain-cache.js'
export { createCache } from './create-cache.js'
export type { CacheInstance, CacheInstanceMetrics, CreateCacheOptions, EntryOptions, WarmupResult } from './create-cache.js'
export type { Batched, BatchedMembers, BatchLoadFn, BatchOptions } from './batch-loader.js'
