import { createClient } from 'redis'

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
