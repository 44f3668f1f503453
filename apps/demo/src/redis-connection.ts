import { createClient } from 'redis'

function newClient(url: string) {
  return createClient({
    url,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
  })
}

/** A connected node-redis client, as both demo processes use it. */
export type DemoRedisClient = ReturnType<typeof newClient>

/**
 * Connects to `url` with a reconnect strategy that never gives up (the default one stops after a
 * socket timeout) and an `error` listener (a reconnecting client without one crashes the
 * process). Fails — and closes the client — when the first connection takes longer than
 * `timeoutMs`, so a wrong `REDIS_URL` is an error at start, not a hang.
 *
 * @example
 * const client = await connectRedis('redis://127.0.0.1:6379', (e) => console.warn(e))
 */
export async function connectRedis(url: string, onError: (error: Error) => void, timeoutMs = 5000): Promise<DemoRedisClient> {
  const client = newClient(url)
  client.on('error', onError)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`could not connect to Redis at ${url} within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
  } catch (error) {
    client.destroy()
    throw error
  } finally {
    clearTimeout(timer)
  }
  return client
}
