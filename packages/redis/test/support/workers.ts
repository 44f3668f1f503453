import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { LOCK_NAMESPACE } from '../../src/index.js'

/** A test/fixtures/worker.mjs process (running the built dist), driven over IPC. */
export class Worker {
  private seq = 0
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  readonly ready: Promise<void>

  constructor(readonly proc: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      proc.once('exit', (code) => reject(new Error(`worker exited early (${code})`)))
      proc.on('message', (m: { ready?: true; id: number; ok: boolean; value?: unknown; error?: string }) => {
        if (m.ready) return resolve()
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        if (m.ok) p?.resolve(m.value)
        else p?.reject(new Error(m.error))
      })
    })
  }

  call<T = unknown>(cmd: string, args?: object): Promise<T> {
    const id = ++this.seq
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.proc.send({ id, cmd, args })
    })
  }

  /** Asks the worker to close its stores and client and exit; SIGKILL if it cannot be asked. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    const exited = new Promise((r) => this.proc.once('exit', r))
    await this.call('exit').catch(() => this.proc.kill('SIGKILL'))
    await exited
  }
}

/**
 * Forks `count` workers with `env` (REDIS_URL or REDIS_CLUSTER, PREFIX) and waits until they are
 * connected. They are added to `into` so the test file can stop them all.
 */
export async function spawnWorkers(count: number, env: Record<string, string>, into: Worker[]): Promise<Worker[]> {
  const made = Array.from({ length: count }, () => {
    const proc = fork(join(__dirname, '..', 'fixtures', 'worker.mjs'), [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const w = new Worker(proc)
    into.push(w)
    return w
  })
  await Promise.all(made.map((w) => w.ready))
  return made
}

/**
 * Starts `workers` racing for the cold key `cold` (each with `lock`) at the same
 * instant, sampling the lock key's PTTL through `pTTL` while they run. Resolves with each worker's
 * value, the samples and the lock key.
 */
export async function raceColdKeyWithLock(
  workers: Worker[],
  prefix: string,
  pTTL: (key: string) => Promise<number>,
): Promise<{ values: string[]; samples: number[]; lockKey: string }> {
  const at = Date.now() + 300
  const results = workers.map((w) => w.call<string>('race', { at }))
  const samples: number[] = []
  const lockKey = `${prefix}${LOCK_NAMESPACE}cold`
  const sampling = (async () => {
    const until = Date.now() + 1500
    while (Date.now() < until) {
      const pttl = await pTTL(lockKey)
      if (pttl > 0) samples.push(pttl)
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  const values = await Promise.all(results)
  await sampling
  return { values, samples, lockKey }
}

/** Polls `worker` until key `id` left its L1: ms since `since`, or -1 after `limitMs`. */
export async function msUntilEvicted(worker: Worker, id: number, since: number, limitMs: number): Promise<number> {
  while (performance.now() - since < limitMs) {
    if (!(await worker.call<boolean>('l1Has', { id }))) return performance.now() - since
  }
  return -1
}
