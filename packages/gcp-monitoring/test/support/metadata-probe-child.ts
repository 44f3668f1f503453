/**
 * Test support, run as a plain `node` child process (see swc-register.cjs) with GCE_METADATA_HOST
 * pointing at a MetadataTripwire. Mode `exporter`: an exporter that builds its own client from
 * `clientOptions` records real cache() traffic, flushes and closes. Mode `bare`: a
 * MetricServiceClient without `universeDomain` makes one call (the control: it must probe).
 * Prints one JSON line: { errors }.
 */
import * as grpc from '@grpc/grpc-js'
import { MetricServiceClient } from '@google-cloud/monitoring'
import { cache } from '@acache/core'
import { GCPCloudMonitoringMetrics } from '../../src/index.js'

async function main(): Promise<void> {
  // node -e: argv is [node, ...args]
  const [mode, port, projectId] = [process.argv[1], Number(process.argv[2]), process.argv[3]]
  const errors: string[] = []
  const connection = { apiEndpoint: '127.0.0.1', port, sslCreds: grpc.credentials.createInsecure() }
  if (mode === 'exporter') {
    const metrics = new GCPCloudMonitoringMetrics({
      projectId,
      clientOptions: connection,
      minPointInterval: 0,
      instanceId: 'child',
      onError: (error) => errors.push(String(error)),
    })
    const getUser = cache(60, { metrics, name: 'users' })(async (id: number) => ({ id }))
    await getUser(1)
    await getUser(1)
    await metrics.flush()
    await metrics.close()
  } else {
    const bare = new MetricServiceClient(connection)
    await bare.createTimeSeries({ name: `projects/${projectId}`, timeSeries: [] }).catch((error: unknown) => errors.push(String(error)))
    await bare.close()
  }
  process.stdout.write(JSON.stringify({ errors }) + '\n')
}

void main()
