import { execFile, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { spawnRedisServer } from './redis-server.js'

const run = promisify(execFile)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Whether `port` can be bound on 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** A port P where both P and its cluster bus port P + 10000 are free (and not already `taken`). */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 35000)
    if (taken.has(port) || taken.has(port + 10000) || taken.has(port - 10000)) continue
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) {
      taken.add(port)
      return port
    }
  }
  throw new Error('no free port pair (P, P + 10000) found on 127.0.0.1')
}

/** One `redis-server --cluster-enabled yes` process with its own directory (nodes.conf). */
export class ClusterNode {
  proc: ChildProcess | undefined
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly nodeTimeoutMs: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.proc?.pid
  }

  get alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null
  }

  async spawn(): Promise<void> {
    this.proc = await spawnRedisServer(
      [
        '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', String(this.nodeTimeoutMs),
      ],
      15_000,
    )
  }

  /** Runs `redis-cli -p <port> <args…>` and returns its output. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args], { timeout: 10_000 })
    return stdout
  }

  /** SIGSTOP: the node hangs (connections stay open, nothing is answered). */
  pause(): void {
    process.kill(this.proc!.pid!, 'SIGSTOP')
  }

  /** SIGCONT: the hung node resumes. */
  resume(): void {
    process.kill(this.proc!.pid!, 'SIGCONT')
  }

  /** SIGKILL by PID; resolves once the process is gone. */
  async kill(): Promise<void> {
    const proc = this.proc
    if (proc === undefined || !this.alive) return
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    try {
      process.kill(proc.pid!, 'SIGCONT') // a stopped process must run to die promptly
    } catch {
      // already gone
    }
    process.kill(proc.pid!, 'SIGKILL')
    await exited
  }
}

export interface RedisClusterOptions {
  /** `cluster-node-timeout` in ms. Default 1000. */
  nodeTimeoutMs?: number
}

/**
 * A real Redis Cluster for a test file: 6 `redis-server --cluster-enabled yes` processes on free
 * loopback ports (3 masters, 3 replicas), created with `redis-cli --cluster create … --cluster-replicas 1`,
 * ready once every node reports `cluster_state:ok`, every node knows the 6 nodes and every replica's
 * link is up. {@link stop} kills every process by PID and removes the nodes' directories.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly root: string,
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000
    const root = mkdtempSync(join(tmpdir(), 'acache-cluster-'))
    const taken = new Set<number>()
    const nodes: ClusterNode[] = []
    const cluster = new RedisCluster(nodes, root)
    try {
      for (let i = 0; i < 6; i++) {
        const dir = join(root, `node-${i}`)
        mkdirSync(dir)
        nodes.push(new ClusterNode(await freeClusterPort(taken), dir, nodeTimeoutMs))
      }
      await Promise.all(nodes.map((n) => n.spawn()))
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '1', '--cluster-yes'], {
        timeout: 60_000,
      })
      await cluster.waitHealthy(60_000)
      return cluster
    } catch (error) {
      await cluster.stop()
      throw error
    }
  }

  /** Root node descriptors for `createCluster({ rootNodes })`. */
  get rootNodes(): Array<{ url: string }> {
    return this.nodes.map((n) => ({ url: `redis://${n.address}` }))
  }

  /** Comma-separated URLs (for child processes). */
  get urls(): string {
    return this.nodes.map((n) => `redis://${n.address}`).join(',')
  }

  private async info(node: ClusterNode): Promise<Record<string, string>> {
    const out = (await node.cli('cluster', 'info')) + (await node.cli('info', 'replication'))
    const fields: Record<string, string> = {}
    for (const line of out.split(/\r?\n/)) {
      const i = line.indexOf(':')
      if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim()
    }
    return fields
  }

  /** Waits until every live node reports `cluster_state:ok`, knows every live node, and every live replica's link is up. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      try {
        const live = this.nodes.filter((n) => n.alive)
        const infos = await Promise.all(live.map((n) => this.info(n)))
        const ok = infos.every(
          (f) =>
            f.cluster_state === 'ok' &&
            f.cluster_slots_ok === '16384' &&
            Number(f.cluster_known_nodes) >= live.length &&
            (f.role !== 'slave' || f.master_link_status === 'up'),
        )
        if (ok) return
        last = JSON.stringify(infos.map((f) => [f.cluster_state, f.cluster_known_nodes, f.role, f.master_link_status]))
      } catch (error) {
        last = String(error)
      }
      await sleep(100)
    }
    throw new Error(`cluster not healthy after ${timeoutMs} ms: ${last}`)
  }

  /** The current masters (from `CLUSTER NODES` of a live node), as our node objects. */
  async masters(): Promise<ClusterNode[]> {
    const live = this.nodes.find((n) => n.alive)!
    const out = await live.cli('cluster', 'nodes')
    const ports = out
      .split('\n')
      .map((line) => line.split(' '))
      .filter((parts) => /(^|,)master(,|$)/.test(parts[2] ?? '') && !/fail/.test(parts[2]))
      .map((parts) => Number(parts[1].split('@')[0].split(':')[1]))
    return this.nodes.filter((n) => ports.includes(n.port))
  }

  /** The node currently serving `slot` as master (parsed from `CLUSTER NODES` of a live node). */
  async masterOfSlot(slot: number): Promise<ClusterNode> {
    return (await this.slotOwners())(slot)
  }

  /** A snapshot of the slot map: slot → the master serving it (throws for an unserved slot). */
  async slotOwners(): Promise<(slot: number) => ClusterNode> {
    const live = this.nodes.find((n) => n.alive)!
    const out = await live.cli('cluster', 'nodes')
    const ranges: Array<[number, number, ClusterNode]> = []
    for (const line of out.split('\n')) {
      const parts = line.split(' ')
      if (!/(^|,)master(,|$)/.test(parts[2] ?? '') || /fail/.test(parts[2])) continue
      const port = Number(parts[1].split('@')[0].split(':')[1])
      const node = this.nodes.find((n) => n.port === port)!
      for (const range of parts.slice(8)) {
        if (range.startsWith('[')) continue // a slot being migrated
        const [from, to = from] = range.split('-').map(Number)
        ranges.push([from, to, node])
      }
    }
    return (slot) => {
      const hit = ranges.find(([from, to]) => slot >= from && slot <= to)
      if (hit === undefined) throw new Error(`no master serves slot ${slot}`)
      return hit[2]
    }
  }

  /** Whether `master` has a replica that is up (so it can fail over). */
  async hasLiveReplica(master: ClusterNode): Promise<boolean> {
    const out = await master.cli('cluster', 'nodes')
    const lines = out.split('\n').map((line) => line.split(' '))
    const id = lines.find((parts) => parts[1]?.startsWith(`${master.address}@`))?.[0]
    return lines.some((parts) => /(^|,)slave(,|$)/.test(parts[2] ?? '') && !/fail/.test(parts[2]) && parts[3] === id)
  }

  /** Kills every node by PID and removes the directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()))
    rmSync(this.root, { recursive: true, force: true })
  }
}
