/** The messages the server and its writer process exchange over IPC. */
import type { UpstreamSettings } from './upstream.js'

/** What the writer is started with (JSON in `ACACHE_DEMO_WRITER`). */
export interface WriterSettings {
  dataDir: string
  redisUrl?: string
  upstream: UpstreamSettings
}

/** Writer → server. */
export type WriterMessage =
  | { type: 'ready'; pid: number; store: 'file' | 'redis' }
  | { type: 'tick'; ok: true; seq: number }
  | { type: 'tick'; ok: false; error: string }
  | { type: 'metric'; method: string; args: unknown[] }
  | { type: 'store-error'; message: string }

/** Server → writer. */
export type ParentMessage = { type: 'shutdown' } | { type: 'upstream'; settings: Partial<UpstreamSettings> }
