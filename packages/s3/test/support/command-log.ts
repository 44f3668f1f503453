/**
 * Test support: records the commands an S3Client sends (name, HTTP headers) and how many are in
 * flight, through the client's own middleware stack — the requests still go to the real server.
 */
import type { S3Client } from '@aws-sdk/client-s3'

export interface SentCommand {
  name: string
  headers: Record<string, string>
}

export interface CommandLog {
  sent: SentCommand[]
  /** The most requests that were in flight at once. */
  maxInFlight: number
  names(): string[]
  reset(): void
}

export function recordCommands(client: S3Client): CommandLog {
  let inFlight = 0
  const log: CommandLog = {
    sent: [],
    maxInFlight: 0,
    names: () => log.sent.map((c) => c.name),
    reset() {
      log.sent.length = 0
      log.maxInFlight = 0
    },
  }
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = (args as { request?: { headers?: Record<string, string> } }).request
      log.sent.push({ name: String(context.commandName), headers: { ...(request?.headers ?? {}) } })
      inFlight++
      log.maxInFlight = Math.max(log.maxInFlight, inFlight)
      try {
        return await next(args)
      } finally {
        inFlight--
      }
    },
    { step: 'finalizeRequest', name: 'acacheTestCommandLog' },
  )
  return log
}
