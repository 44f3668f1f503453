/**
 * The demo's settings: command-line flags first, then environment variables, then defaults.
 * Every bad value is an error that names the flag (or variable), before anything starts.
 */
import { resolve } from 'node:path'

/** An S3 (or S3-compatible) tier. */
export interface S3TierConfig {
  bucket: string
  /** A custom endpoint (an S3-compatible server); path-style addressing is used then. */
  endpoint?: string
  region: string
  prefix: string
}

/** A Google Cloud Storage tier. */
export interface GcsTierConfig {
  bucket: string
  /** A custom API endpoint (a GCS-compatible server); the client sends no auth then. */
  endpoint?: string
  projectId?: string
  prefix: string
}

/** Everything the demo needs to start. */
export interface DemoConfig {
  port: number
  host: string
  /** Where the file tier (`cache/`) and the shared store of the writer process (`shared/`) live. */
  dataDir: string
  /** Empty the data directory before starting. */
  reset: boolean
  /** Start the built-in load generator at boot. */
  load: boolean
  /** Requests per second of the load generator. */
  loadRps: number
  /** Simulated upstream latency range, milliseconds. */
  latencyMs: [number, number]
  /** Share of upstream calls that fail (0–1). */
  failureRate: number
  /** Fork the writer process (bg.write → shared store). */
  writer: boolean
  redisUrl?: string
  s3?: S3TierConfig
  gcs?: GcsTierConfig
}

export const USAGE = `Usage: node dist/main.js [options]

Options (environment variable in brackets):
  --port <n>                 HTTP port, 0 = any free port [PORT] (default 3000)
  --host <addr>              address to listen on [HOST] (default 127.0.0.1)
  --data-dir <dir>           file tier + shared store directory [ACACHE_DEMO_DATA_DIR]
                             (default apps/demo/.demo-data)
  --reset                    empty the data directory first [ACACHE_DEMO_RESET=1]
  --load                     start the load generator at boot [ACACHE_DEMO_LOAD=1]
  --load-rps <n>             load generator requests per second [ACACHE_DEMO_LOAD_RPS] (default 60)
  --upstream-latency <a-b>   simulated upstream latency in ms [ACACHE_DEMO_UPSTREAM_LATENCY]
                             (default 50-200)
  --failure-rate <0..1>      share of upstream calls that fail [ACACHE_DEMO_FAILURE_RATE] (default 0.05)
  --no-writer                do not fork the bg.write writer process
  --redis-url <url>          use Redis as the shared tier and invalidation bus [REDIS_URL]
  --help                     show this help

Cloud tiers (environment only):
  ACACHE_S3_BUCKET, ACACHE_S3_ENDPOINT, ACACHE_S3_REGION (default us-east-1), ACACHE_S3_PREFIX
  ACACHE_GCS_BUCKET, ACACHE_GCS_ENDPOINT, ACACHE_GCS_PROJECT, ACACHE_GCS_PREFIX
  (prefixes default to "acache-demo/"; credentials come from each SDK's usual sources)`

/** A bad flag or variable: the message names it. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** `--help` was given. */
export class HelpRequested extends Error {
  override name = 'HelpRequested'
}

type Env = Record<string, string | undefined>

const VALUE_FLAGS = ['--port', '--host', '--data-dir', '--load-rps', '--upstream-latency', '--failure-rate', '--redis-url'] as const
const BOOLEAN_FLAGS = ['--reset', '--load', '--no-writer', '--help'] as const

/**
 * Reads the flags (`--port 3000` or `--port=3000`) and the environment into a {@link DemoConfig}.
 * `appRoot` is the demo's directory (the default data directory is `<appRoot>/.demo-data`).
 *
 * @example
 * parseConfig(['--port', '0', '--load'], process.env, '/srv/demo').port // 0
 */
export function parseConfig(argv: readonly string[], env: Env, appRoot: string): DemoConfig {
  const flags = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') continue // `pnpm start -- --load` passes the separator on
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if ((BOOLEAN_FLAGS as readonly string[]).includes(name)) {
      if (eq > 0) throw new ConfigError(`${name} takes no value`)
      flags.set(name, true)
    } else if ((VALUE_FLAGS as readonly string[]).includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
      if (value === undefined || value === '') throw new ConfigError(`${name} needs a value`)
      flags.set(name, value)
    } else {
      throw new ConfigError(`unknown option ${JSON.stringify(arg)} (see --help)`)
    }
  }
  if (flags.has('--help')) throw new HelpRequested(USAGE)

  const pick = (flag: string, variable: string): { value: string; from: string } | undefined => {
    const fromFlag = flags.get(flag)
    if (typeof fromFlag === 'string') return { value: fromFlag, from: flag }
    const fromEnv = env[variable]
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, from: variable }
    return undefined
  }
  const bool = (flag: string, variable: string): boolean => {
    if (flags.get(flag) === true) return true
    const value = env[variable]
    if (value === undefined || value === '') return false
    if (/^(1|true|yes|on)$/i.test(value)) return true
    if (/^(0|false|no|off)$/i.test(value)) return false
    throw new ConfigError(`${variable} must be 1/true or 0/false, got ${JSON.stringify(value)}`)
  }

  const port = integer(pick('--port', 'PORT'), 3000, 0, 65535)
  const host = pick('--host', 'HOST')?.value ?? '127.0.0.1'
  const dataDir = resolve(pick('--data-dir', 'ACACHE_DEMO_DATA_DIR')?.value ?? resolve(appRoot, '.demo-data'))
  const loadRps = number(pick('--load-rps', 'ACACHE_DEMO_LOAD_RPS'), 60, 1, 2000)
  const failureRate = number(pick('--failure-rate', 'ACACHE_DEMO_FAILURE_RATE'), 0.05, 0, 1)
  const latencyMs = range(pick('--upstream-latency', 'ACACHE_DEMO_UPSTREAM_LATENCY'), [50, 200])
  const redisUrl = pick('--redis-url', 'REDIS_URL')?.value
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError(`${flags.has('--redis-url') ? '--redis-url' : 'REDIS_URL'} must be a redis:// or rediss:// URL, got ${JSON.stringify(redisUrl)}`)
  }

  const config: DemoConfig = {
    port,
    host,
    dataDir,
    reset: bool('--reset', 'ACACHE_DEMO_RESET'),
    load: bool('--load', 'ACACHE_DEMO_LOAD'),
    loadRps,
    latencyMs,
    failureRate,
    writer: flags.get('--no-writer') !== true,
  }
  if (redisUrl !== undefined) config.redisUrl = redisUrl
  const s3Bucket = env.ACACHE_S3_BUCKET
  if (s3Bucket) {
    config.s3 = { bucket: s3Bucket, region: env.ACACHE_S3_REGION || env.AWS_REGION || 'us-east-1', prefix: env.ACACHE_S3_PREFIX || 'acache-demo/' }
    if (env.ACACHE_S3_ENDPOINT) config.s3.endpoint = url(env.ACACHE_S3_ENDPOINT, 'ACACHE_S3_ENDPOINT')
  }
  const gcsBucket = env.ACACHE_GCS_BUCKET
  if (gcsBucket) {
    config.gcs = { bucket: gcsBucket, prefix: env.ACACHE_GCS_PREFIX || 'acache-demo/' }
    if (env.ACACHE_GCS_ENDPOINT) config.gcs.endpoint = url(env.ACACHE_GCS_ENDPOINT, 'ACACHE_GCS_ENDPOINT')
    if (env.ACACHE_GCS_PROJECT) config.gcs.projectId = env.ACACHE_GCS_PROJECT
  }
  return config
}

function number(input: { value: string; from: string } | undefined, fallback: number, min: number, max: number): number {
  if (input === undefined) return fallback
  const value = Number(input.value)
  if (input.value.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${input.from} must be a number from ${min} to ${max}, got ${JSON.stringify(input.value)}`)
  }
  return value
}

function integer(input: { value: string; from: string } | undefined, fallback: number, min: number, max: number): number {
  const value = number(input, fallback, min, max)
  if (!Number.isInteger(value)) throw new ConfigError(`${input!.from} must be an integer, got ${JSON.stringify(input!.value)}`)
  return value
}

function range(input: { value: string; from: string } | undefined, fallback: [number, number]): [number, number] {
  if (input === undefined) return fallback
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$/.exec(input.value)
  const low = match ? Number(match[1]) : NaN
  const high = match ? Number(match[2] ?? match[1]) : NaN
  if (!match || low > high || high > 60_000) {
    throw new ConfigError(`${input.from} must be "<min>-<max>" milliseconds (e.g. 50-200), got ${JSON.stringify(input.value)}`)
  }
  return [low, high]
}

function url(value: string, variable: string): string {
  try {
    return new URL(value).toString().replace(/\/$/, '')
  } catch {
    throw new ConfigError(`${variable} must be a URL, got ${JSON.stringify(value)}`)
  }
}
