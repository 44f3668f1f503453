import { createClient, createCluster } from 'redis'

/** A connected client with fast reconnects (tests restart servers) and an error listener of its own. */
export async function connect(url: string, options: { resp?: 2 | 3 } = {}) {
  const client = createClient({
    url,
    RESP: options.resp ?? 3,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500), connectTimeout: 2000 },
  })
  client.on('error', () => {})
  await client.connect()
  return client
}

export type TestClient = Awaited<ReturnType<typeof connect>>

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A connected cluster client (`createCluster`) with fast reconnects and a short topology refresh
 * after a node's connection drops (`refreshMs`, default 1000; `'default'` keeps node-redis's 5 s),
 * and an error listener of its own.
 */
export async function connectCluster(rootNodes: Array<{ url: string }>, options: { refreshMs?: number | 'default' } = {}) {
  const refreshMs = options.refreshMs ?? 1000
  const cluster = createCluster({
    rootNodes,
    RESP: 3,
    defaults: { socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500), connectTimeout: 2000 } },
    ...(refreshMs === 'default' ? {} : { topologyRefreshOnReconnectionAttemptStrategy: refreshMs }),
  })
  cluster.on('error', () => {})
  await cluster.connect()
  return cluster
}

export type TestCluster = Awaited<ReturnType<typeof connectCluster>>
