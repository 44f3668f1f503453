/**
 * Test support: a real s3rver in a child process on a free loopback port, and an S3Client for it.
 * The child runs with `--openssl-legacy-provider` (see s3rver-process.cjs); it is killed by PID
 * and its directory removed by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'

export interface S3rverHandle {
  port: number
  endpoint: string
  bucket: string
  child: ChildProcess
  /** A client for this server (same settings `S3Cache` needs against s3rver). */
  client(): S3Client
  /** Kills the server (SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>
}

/** An S3Client for a local S3-compatible endpoint. */
export function localClient(endpoint: string, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // With the defaults, streamed bodies are stored with aws-chunked framing inside them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...extra,
  })
}

export async function startS3rver(bucket = 'acache-test'): Promise<S3rverHandle> {
  const directory = mkdtempSync(join(tmpdir(), 'acache-s3rver-'))
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', join(__dirname, 's3rver-process.cjs'), directory, bucket],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  )
  const clients: S3Client[] = []
  let stopped = false
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(`s3rver did not start in 15 s: ${err}`)), 15_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /listening (\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`s3rver exited with ${code}: ${err}`))
    })
  })
  const endpoint = `http://127.0.0.1:${port}`
  return {
    port,
    endpoint,
    bucket,
    child,
    client() {
      const c = localClient(endpoint)
      clients.push(c)
      return c
    },
    async stop() {
      if (stopped) return
      stopped = true
      for (const c of clients) c.destroy()
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
        child.kill('SIGKILL')
        await exited
      }
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
