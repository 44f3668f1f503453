/**
 * The writer process (forked by the server): the single writer of the shared exchange rates.
 * `bg.write` refreshes them every 2 s from its own simulated upstream into the shared store
 * (a directory, or Redis); the server mirrors them with `bg.read`. Its metrics travel to the
 * server over IPC, so the server's `/stats`, `/metrics` and dashboard show its refreshes.
 *
 * It exits when the server tells it to, and by itself when the server goes away (IPC disconnect).
 */
import { bg, METRICS_METHODS, type MetricsCollector } from '@acache/core'
import { connectRedis, type DemoRedisClient } from './redis-connection.js'
import { createSharedStore, SHARED_KEY, WRITER_INTERVAL, WRITER_TTL, type SharedRates } from './shared-store.js'
import { SimulatedUpstream, type UpstreamSettings } from './upstream.js'
import type { ParentMessage, WriterMessage, WriterSettings } from './writer-protocol.js'

const send = (message: WriterMessage): void => {
  if (process.connected) process.send!(message)
}

/** Forwards every metrics call to the server (which records it in its own collectors). */
const ipcMetrics = Object.fromEntries(
  METRICS_METHODS.map((method) => [method, (...args: unknown[]) => send({ type: 'metric', method, args })]),
) as unknown as MetricsCollector

async function main(): Promise<void> {
  if (process.send === undefined) {
    console.error('writer-process: must be started by the demo server (child_process.fork)')
    process.exit(2)
  }
  const settings = JSON.parse(process.env.ACACHE_DEMO_WRITER ?? '{}') as WriterSettings
  let redis: DemoRedisClient | undefined
  if (settings.redisUrl !== undefined) {
    redis = await connectRedis(settings.redisUrl, () => {})
  }
  const upstream = new SimulatedUpstream(settings.upstream)
  const shared = createSharedStore({
    dataDir: settings.dataDir,
    redis,
    onError: (error, info) => send({ type: 'store-error', message: `${info.operation} ${info.key}: ${String((error as Error)?.message ?? error)}` }),
  })
  let seq = 0
  const currencies = ['USD', 'GBP', 'JPY', 'CHF', 'SEK']
  const job = bg.write(WRITER_INTERVAL, {
    key: SHARED_KEY,
    ttl: WRITER_TTL,
    store: shared.store,
    name: 'writer',
    metrics: ipcMetrics,
    onError: (error) => send({ type: 'tick', ok: false, error: String((error as Error)?.message ?? error) }),
  })(async (): Promise<SharedRates> => {
    const value = await upstream.call('forex', () => {
      const t = Date.now() / 10_000
      const rates = Object.fromEntries(currencies.map((c, i) => [c, Math.round((0.5 + i * 0.4 + Math.sin(t + i) * 0.02) * 10_000) / 10_000]))
      return { seq: seq + 1, writerPid: process.pid, writtenAt: new Date(), base: 'EUR', rates }
    })
    seq = value.seq
    send({ type: 'tick', ok: true, seq: value.seq })
    return value
  })

  let stopping = false
  const stop = async (code: number): Promise<void> => {
    if (stopping) return
    stopping = true
    job.stop()
    await bg.shutdown()
    shared.close()
    if (redis !== undefined) await redis.close().catch(() => {})
    process.exit(code)
  }
  process.on('message', (message: ParentMessage) => {
    if (message?.type === 'shutdown') void stop(0)
    else if (message?.type === 'upstream') upstream.configure(message.settings as Partial<UpstreamSettings>)
  })
  // The server is gone (killed, crashed): nobody reads what this process writes.
  process.on('disconnect', () => void stop(0))
  process.on('SIGTERM', () => void stop(0))
  process.on('SIGINT', () => {}) // Ctrl-C reaches the whole group: the server decides when this one stops.
  send({ type: 'ready', pid: process.pid, store: shared.kind })
}

main().catch((error) => {
  console.error('writer-process:', error)
  process.exit(1)
})
