/**
 * Test support: the built demo (dist/main.js) in a child process on a free port (`--port 0`, the
 * URL is read from its output) with a temporary data directory; stopped with SIGTERM and, if it
 * does not exit in time, killed by PID. Plus small HTTP and polling helpers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const APP_ROOT = join(__dirname, '..', '..')
const MAIN = join(APP_ROOT, 'dist', 'main.js')

export interface DemoProcess {
  url: string
  pid: number
  dataDir: string
  child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  /** SIGTERM, wait for the exit (SIGKILL after `graceMs`); removes the data directory. Resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

export interface StartOptions {
  args?: string[]
  env?: Record<string, string>
  /** Default: a new temporary directory (removed by `stop`). */
  dataDir?: string
}

/** Runs `node dist/main.js …args` to completion (for flags that exit at once). */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '', REDIS_URL: '' } })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * Starts the demo. Defaults make tests fast and deterministic: an upstream of 20–40 ms that never
 * fails (tests raise the failure rate through `POST /upstream` when they want failures).
 */
export async function startDemoProcess(options: StartOptions = {}): Promise<DemoProcess> {
  const ownDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'acache-demo-test-'))
  const args = ['--port', '0', '--data-dir', dataDir, '--upstream-latency', '20-40', '--failure-rate', '0', ...(options.args ?? [])]
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '', REDIS_URL: '', ACACHE_DEMO_LOAD: '', ...options.env }
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start within 30 s:\n${out}`)), 30_000)
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        resolve(m[1])
      }
    }
    child.stdout!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`demo exited (${code}) before listening:\n${out}`))
    })
  })
  let url: string
  try {
    url = await started
  } catch (error) {
    // Nothing to hand back: leave nothing behind either.
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL')
    if (ownDir) rmSync(dataDir, { recursive: true, force: true })
    throw error
  }
  let stopped: Promise<number | null> | undefined
  return {
    url,
    pid: child.pid!,
    dataDir,
    child,
    output: () => out,
    stop(graceMs = 10_000) {
      stopped ??= (async () => {
        let code: number | null = child.exitCode
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
          child.kill('SIGTERM')
          const timer = setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL')
          }, graceMs)
          code = await exited
          clearTimeout(timer)
        }
        if (ownDir) rmSync(dataDir, { recursive: true, force: true })
        return code
      })()
      return stopped
    },
  }
}

/** `GET`/`POST` returning status and parsed JSON. */
export async function http<T = any>(method: 'GET' | 'POST', url: string): Promise<{ status: number; body: T; ms: number }> {
  const t0 = performance.now()
  const res = await fetch(url, { method })
  const text = await res.text()
  const ms = performance.now() - t0
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON (/metrics)
  }
  return { status: res.status, body, ms }
}

export const get = <T = any>(url: string) => http<T>('GET', url)
export const post = <T = any>(url: string) => http<T>('POST', url)

/** Polls `check` until it returns a truthy value (returned), or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** The value of one Prometheus sample (`name{labels}`), or undefined. Labels match as a subset. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}

/** Whether a process exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
