import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Spawns `redis-server <args> --save '' --appendonly no` in the foreground and resolves once it
 * accepts connections; rejects with its output when it exits first or takes longer than `timeoutMs`.
 */
export function spawnRedisServer(args: string[], timeoutMs: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', [...args, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      proc.kill('SIGKILL') // the caller never gets the process: do not leave it running
      reject(new Error(`redis-server did not start (${args.join(' ')}):\n${out}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer)
        proc.stdout!.off('data', onData)
        proc.stdout!.resume() // keep draining: a full pipe would block the server
        resolve(proc)
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()))
    proc.on('exit', (code) => {
      clearTimeout(timer)
      if (!out.includes('Ready to accept connections')) reject(new Error(`redis-server exited (${code}):\n${out}`))
    })
  })
}

/**
 * A real `redis-server` spawned for a test file on a free loopback port, killed by PID afterwards.
 * Supports SIGKILL + restart on the same port, and SIGSTOP / SIGCONT (a hung server).
 */
export class RedisServer {
  private proc: ChildProcess | undefined
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort())
    await server.spawn()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.proc?.pid
  }

  private async spawn(): Promise<void> {
    this.proc = await spawnRedisServer(['--port', String(this.port), '--bind', '127.0.0.1'], 10_000)
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    process.kill(proc.pid!, signal)
    await exited
    this.proc = undefined
  }

  /** SIGKILL: the server dies at once, connections drop. */
  kill(): Promise<void> {
    return this.signalAndWait('SIGKILL')
  }

  /** A new server on the same port (after {@link kill}). */
  restart(): Promise<void> {
    return this.spawn()
  }

  /** SIGSTOP: the server hangs (connections stay open, nothing is answered). */
  pause(): void {
    process.kill(this.proc!.pid!, 'SIGSTOP')
  }

  /** SIGCONT: the hung server resumes. */
  resume(): void {
    process.kill(this.proc!.pid!, 'SIGCONT')
  }

  /** Kills the server by PID (resuming it first if stopped). */
  async stop(): Promise<void> {
    if (this.proc?.pid !== undefined) {
      try {
        process.kill(this.proc.pid, 'SIGCONT')
      } catch {
        // already gone
      }
    }
    await this.signalAndWait('SIGKILL')
  }
}
