/**
 * The service's data functions, cached the way a real service would cache them. Each one talks
 * to the simulated upstream only when the cache needs it:
 *
 * | function | acache feature | upstream endpoint |
 * |---|---|---|
 * | `product(id)` | TTL (`cache(60)`) | `catalog` |
 * | `price(symbol)` | stale-while-revalidate (`cache(3, { stale: 30 })`) | `pricing` |
 * | `forecast(city)` | refresh-ahead (`cache(6, { refreshAhead })`) | `weather` |
 * | `flags()` | background refresh (`bg(5)`) | `config` |
 * | `sharedRates()` | `bg.read` of what the writer process `bg.write`s | (the writer's `forex`) |
 */
import { bg, cache, type BgFunction, type BgReader, type CacheStorage, type ErrorHandler, type MetricsCollector } from '@acache/core'
import { SHARED_KEY, WRITER_TTL, type SharedRates } from './shared-store.js'
import type { SimulatedUpstream } from './upstream.js'

export interface Product {
  id: number
  name: string
  priceCents: number
  /** The upstream call that produced this value (1, 2, …): a new one means a reload. */
  version: number
  loadedAt: string
}

export interface Price {
  symbol: string
  price: number
  version: number
  loadedAt: string
}

export interface Forecast {
  city: string
  temperatureC: number
  sky: string
  version: number
  loadedAt: string
}

export interface FeatureFlags {
  newCheckout: boolean
  recommendations: boolean
  banner: string
  version: number
  loadedAt: string
}

/** The freshness settings, shown on the dashboard and in the README. */
export const POLICIES = {
  product: { ttl: 60, description: 'TTL 60 s' },
  price: { ttl: 3, stale: 30, description: 'SWR: fresh 3 s, then stale up to 30 s while one refresh runs' },
  forecast: { ttl: 6, at: 0.6, description: 'refresh-ahead at 60% of a 6 s TTL; keeps the last good value' },
  flags: { interval: 5, description: 'bg: reloaded every 5 s, every call a local read' },
  sharedRates: { interval: 1, description: 'bg.read: mirrored every 1 s from the writer process' },
} as const

export const SYMBOLS = ['ACME', 'GLOBEX', 'INITECH', 'UMBRELLA', 'HOOLI', 'STARK', 'WAYNE', 'TYRELL']
export const CITIES = ['paris', 'tokyo', 'lima', 'oslo', 'cairo', 'perth']
const PRODUCT_NAMES = ['lamp', 'chair', 'desk', 'mug', 'kettle', 'rug', 'clock', 'shelf', 'vase', 'stool']
const SKIES = ['clear', 'cloudy', 'rain', 'fog', 'snow', 'wind']

/** The cached functions of the service. */
export interface CachedFunctions {
  product: ReturnType<typeof makeProduct>
  price: ReturnType<typeof makePrice>
  forecast: ReturnType<typeof makeForecast>
  flags: BgFunction<Promise<FeatureFlags>>
  sharedRates: BgReader<SharedRates>
  /** The metrics names of the functions, in display order. */
  names: readonly string[]
}

export interface CachedFunctionOptions {
  store: CacheStorage
  sharedStore: CacheStorage
  metrics: MetricsCollector
  upstream: SimulatedUpstream
  /** Background failures (SWR refreshes, refresh-ahead, bg ticks, bg.read syncs). */
  onError: ErrorHandler
}

// A stable pseudo-random number from a string, so a product keeps its name and price across reloads.
function hash(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return (h >>> 0) / 2 ** 32
}

function makeProduct(options: CachedFunctionOptions) {
  const { store, metrics, upstream } = options
  return cache(POLICIES.product.ttl, { key: 'product:{id}', name: 'product', store, metrics })(async (id: number): Promise<Product> =>
    upstream.call('catalog', (version) => ({
      id,
      name: `${PRODUCT_NAMES[id % PRODUCT_NAMES.length]} #${id}`,
      priceCents: 500 + Math.floor(hash(`product:${id}`) * 20_000),
      version,
      loadedAt: new Date().toISOString(),
    })),
  )
}

function makePrice(options: CachedFunctionOptions) {
  const { store, metrics, upstream, onError } = options
  return cache(POLICIES.price.ttl, { stale: POLICIES.price.stale, key: 'price:{symbol}', name: 'price', store, metrics, onError })(
    async (symbol: string): Promise<Price> =>
      upstream.call('pricing', (version) => ({
        symbol,
        price: Math.round((50 + hash(symbol) * 450 + Math.sin(Date.now() / 20_000 + hash(symbol) * 6) * 10) * 100) / 100,
        version,
        loadedAt: new Date().toISOString(),
      })),
  )
}

function makeForecast(options: CachedFunctionOptions) {
  const { store, metrics, upstream, onError } = options
  return cache(POLICIES.forecast.ttl, {
    key: 'forecast:{city}',
    name: 'forecast',
    store,
    metrics,
    onError,
    refreshAhead: { at: POLICIES.forecast.at, backoff: { initial: 1, max: 8 } },
  })(
    async (city: string): Promise<Forecast> =>
      upstream.call('weather', (version) => ({
        city,
        temperatureC: Math.round((hash(city) * 30 + Math.sin(Date.now() / 60_000) * 5) * 10) / 10,
        sky: SKIES[Math.floor(hash(city + Math.floor(Date.now() / 30_000)) * SKIES.length)],
        version,
        loadedAt: new Date().toISOString(),
      })),
  )
}

/**
 * Builds the cached functions over `store` (the tiers) and `sharedStore` (the writer's store).
 *
 * @example
 * const fns = createCachedFunctions({ store: tiers.store, sharedStore, metrics, upstream, onError })
 * await fns.product(42)
 */
export function createCachedFunctions(options: CachedFunctionOptions): CachedFunctions {
  const { metrics, upstream, onError, sharedStore } = options
  // A feature-flag loader: every read is local; the config service is asked every 5 s.
  const flags = bg<Promise<FeatureFlags>>(POLICIES.flags.interval, { key: 'feature_flags', name: 'flags', metrics, onError })(
    async (): Promise<FeatureFlags> =>
      upstream.call('config', (version) => ({
        newCheckout: Math.floor(Date.now() / 30_000) % 2 === 0,
        recommendations: true,
        banner: ['spring sale', 'free shipping', 'new arrivals'][Math.floor(Date.now() / 20_000) % 3],
        version,
        loadedAt: new Date().toISOString(),
      })),
  )
  // The value another process writes: a private mirror synced every second.
  const sharedRates = bg.read<SharedRates>(SHARED_KEY, {
    interval: POLICIES.sharedRates.interval,
    ttl: WRITER_TTL,
    store: sharedStore,
    name: 'shared-rates',
    metrics,
    onError,
  })
  return {
    product: makeProduct(options),
    price: makePrice(options),
    forecast: makeForecast(options),
    flags,
    sharedRates,
    names: ['product', 'price', 'forecast', 'flags', 'shared-rates'],
  }
}
