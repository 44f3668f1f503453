/**
 * Forks the writer process, relays its metrics into the server's collectors, restarts it if it
 * dies (with a growing delay), and stops it on shutdown — by PID, waiting for it to exit.
 */
import { fork, type ChildProcess } from 'node:child_process'
import type { MetricsFanOut } from './metrics-fan-out.js'
import type { UpstreamSettings } from './upstream.js'
import type { ParentMessage, WriterMessage, WriterSettings } from './writer-protocol.js'

/** What the dashboard shows about the writer. */
export interface WriterStatus {
  enabled: boolean
  pid: number | undefined
  alive: boolean
  store: 'file' | 'redis' | undefined
  ticks: { success: number; failure: number }
  lastSeq: number | undefined
  lastTickAt: number | undefined
  restarts: number
}

export interface WriterSupervisorOptions {
  /** The writer's entry file (dist/writer-process.js). */
  entry: string
  settings: WriterSettings
  metrics: MetricsFanOut
  /** Noteworthy things (started, died, failed tick) for the activity log. */
  onEvent: (kind: 'info' | 'warn', message: string) => void
}

/**
 * @example
 * const writer = new WriterSupervisor({ entry, settings, metrics, onEvent })
 * writer.start()
 * // …
 * await writer.stop()
 */
export class WriterSupervisor {
  private child: ChildProcess | undefined
  private stopping = false
  private restartTimer: NodeJS.Timeout | undefined
  private readonly state: WriterStatus = {
    enabled: true,
    pid: undefined,
    alive: false,
    store: undefined,
    ticks: { success: 0, failure: 0 },
    lastSeq: undefined,
    lastTickAt: undefined,
    restarts: 0,
  }

  constructor(private readonly options: WriterSupervisorOptions) {}

  start(): void {
    if (this.stopping) return
    const child = fork(this.options.entry, [], {
      env: { ...process.env, ACACHE_DEMO_WRITER: JSON.stringify(this.options.settings) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    })
    this.child = child
    this.state.pid = child.pid
    this.state.alive = true
    child.on('message', (message: WriterMessage) => this.onMessage(message))
    child.on('error', (error) => this.options.onEvent('warn', `writer process error: ${error.message}`))
    child.on('exit', (code, signal) => {
      this.state.alive = false
      if (this.child === child) this.child = undefined
      if (this.stopping) return
      this.state.restarts += 1
      const delay = Math.min(500 * 2 ** Math.min(this.state.restarts - 1, 4), 8000)
      this.options.onEvent('warn', `writer process ${child.pid} exited (${signal ?? code}); restarting in ${delay} ms`)
      this.restartTimer = setTimeout(() => this.start(), delay)
      this.restartTimer.unref()
    })
  }

  /** Passes new upstream settings on (the writer has its own simulated upstream). */
  configureUpstream(settings: Partial<UpstreamSettings>): void {
    this.send({ type: 'upstream', settings })
  }

  status(): WriterStatus {
    return { ...this.state, ticks: { ...this.state.ticks } }
  }

  /** Asks the writer to stop, and kills it by PID if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true
    clearTimeout(this.restartTimer)
    const child = this.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.send({ type: 'shutdown' })
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL')
    }, graceMs)
    await exited
    clearTimeout(timer)
  }

  private send(message: ParentMessage): void {
    const child = this.child
    if (child !== undefined && child.connected) child.send(message, () => {})
  }

  private onMessage(message: WriterMessage): void {
    switch (message?.type) {
      case 'metric':
        this.options.metrics.apply(message.method, message.args)
        break
      case 'tick':
        this.state.lastTickAt = Date.now()
        if (message.ok) {
          this.state.ticks.success += 1
          this.state.lastSeq = message.seq
        } else {
          this.state.ticks.failure += 1
          this.options.onEvent('warn', `writer tick failed: ${message.error}`)
        }
        break
      case 'ready':
        this.state.store = message.store
        this.options.onEvent('info', `writer process ${message.pid} started (bg.write → ${message.store} store)`)
        break
      case 'store-error':
        this.options.onEvent('warn', `writer store: ${message.message}`)
        break
    }
  }
}
