/**
 * `node dist/main.js [--port 3000] [--load] …` — starts the demo service, prints its URL, and
 * shuts down cleanly on SIGINT/SIGTERM. `--help` lists every flag and environment variable.
 */
import { fileURLToPath } from 'node:url'
import { ConfigError, HelpRequested, parseConfig } from './config.js'
import { startDemo } from './demo-app.js'

const appRoot = fileURLToPath(new URL('..', import.meta.url))

async function main(): Promise<void> {
  let config
  try {
    config = parseConfig(process.argv.slice(2), process.env, appRoot)
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(error.message)
      return
    }
    if (error instanceof ConfigError) {
      console.error(`acache demo: ${error.message}`)
      process.exitCode = 2
      return
    }
    throw error
  }

  const app = await startDemo(config, {
    publicDir: fileURLToPath(new URL('../public/', import.meta.url)),
    writerEntry: fileURLToPath(new URL('./writer-process.js', import.meta.url)),
  })
  const tiers = [
    'memory',
    config.redisUrl !== undefined ? 'redis' : 'file',
    ...(config.s3 !== undefined ? ['s3'] : []),
    ...(config.gcs !== undefined ? ['gcs'] : []),
  ]
  console.log(`acache demo listening on ${app.url}`)
  console.log(`  dashboard ${app.url}  ·  metrics ${app.url}metrics  ·  stats ${app.url}stats`)
  console.log(`  tiers: ${tiers.join(' → ')}  ·  data: ${config.dataDir}  ·  load: ${config.load ? `on (${config.loadRps} req/s)` : 'off (--load or the dashboard button)'}`)

  let signalled = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (signalled) return
    signalled = true
    console.log(`acache demo: ${signal}, shutting down`)
    // A shutdown that hangs (a dead remote store) must not keep the process for ever.
    setTimeout(() => {
      console.error('acache demo: shutdown took longer than 8 s, exiting')
      process.exit(1)
    }, 8000).unref()
    app.close().then(
      () => {
        console.log('acache demo: stopped')
        process.exit(0)
      },
      (error: unknown) => {
        console.error('acache demo: error during shutdown', error)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  console.error('acache demo: failed to start:', error instanceof Error ? error.message : error)
  process.exit(1)
})
