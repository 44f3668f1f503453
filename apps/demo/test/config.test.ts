import { ConfigError, HelpRequested, parseConfig } from '../src/config.js'

const ROOT = '/srv/demo'

describe('parseConfig', () => {
  test('defaults: port 3000 on loopback, data under the app, 50–200 ms, 5% failures, writer on', () => {
    expect(parseConfig([], {}, ROOT)).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dataDir: '/srv/demo/.demo-data',
      reset: false,
      load: false,
      loadRps: 60,
      latencyMs: [50, 200],
      failureRate: 0.05,
      writer: true,
    })
  })

  test('flags win over the environment; both forms of value flags', () => {
    const config = parseConfig(['--', '--port=8080', '--load', '--upstream-latency', '10-20', '--no-writer'], { PORT: '9000', ACACHE_DEMO_LOAD_RPS: '15', ACACHE_DEMO_DATA_DIR: '/tmp/x' }, ROOT)
    expect(config).toMatchObject({ port: 8080, load: true, loadRps: 15, latencyMs: [10, 20], writer: false, dataDir: '/tmp/x' })
  })

  test('Redis, S3 and GCS from the environment', () => {
    const config = parseConfig([], {
      REDIS_URL: 'redis://127.0.0.1:6399',
      ACACHE_S3_BUCKET: 'b1',
      ACACHE_S3_ENDPOINT: 'http://127.0.0.1:4568/',
      ACACHE_GCS_BUCKET: 'b2',
      ACACHE_GCS_PREFIX: 'p/',
    }, ROOT)
    expect(config.redisUrl).toBe('redis://127.0.0.1:6399')
    expect(config.s3).toEqual({ bucket: 'b1', endpoint: 'http://127.0.0.1:4568', region: 'us-east-1', prefix: 'acache-demo/' })
    expect(config.gcs).toEqual({ bucket: 'b2', prefix: 'p/' })
  })

  test.each([
    [['--port', '70000'], {}, /--port must be a number from 0 to 65535/],
    [['--port', '1.5'], {}, /--port must be an integer/],
    [['--failure-rate', 'lots'], {}, /--failure-rate must be a number from 0 to 1, got "lots"/],
    [[], { ACACHE_DEMO_FAILURE_RATE: '-1' }, /ACACHE_DEMO_FAILURE_RATE must be a number/],
    [['--upstream-latency', '200-50'], {}, /--upstream-latency must be "<min>-<max>"/],
    [['--load-rps'], {}, /--load-rps needs a value/],
    [['--load=yes'], {}, /--load takes no value/],
    [['--frobnicate'], {}, /unknown option "--frobnicate"/],
    [[], { REDIS_URL: 'localhost:6379' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    [[], { ACACHE_DEMO_LOAD: 'maybe' }, /ACACHE_DEMO_LOAD must be 1\/true or 0\/false/],
    [[], { ACACHE_S3_BUCKET: 'b', ACACHE_S3_ENDPOINT: 'not a url' }, /ACACHE_S3_ENDPOINT must be a URL/],
  ])('%j %j is refused naming the option', (argv, env, message) => {
    expect(() => parseConfig(argv as string[], env as Record<string, string>, ROOT)).toThrow(ConfigError)
    expect(() => parseConfig(argv as string[], env as Record<string, string>, ROOT)).toThrow(message as RegExp)
  })

  test('--help', () => {
    expect(() => parseConfig(['--port', '1', '--help'], {}, ROOT)).toThrow(HelpRequested)
  })
})
