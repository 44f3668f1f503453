/**
 * TEST FIXTURE — a stand-in for the GCE metadata server that only counts who called it. Tests point
 * `GCE_METADATA_HOST` at it; any request means some code tried to reach the metadata server. It
 * answers 404 without the `Metadata-Flavor: Google` header, so a probe fails fast instead of hanging.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export class MetadataTripwire {
  private constructor(
    private readonly server: Server,
    /** `host:port` to put in `GCE_METADATA_HOST`. */
    readonly host: string,
    /** Paths requested, in order. */
    readonly hits: string[],
  ) {}

  static async start(): Promise<MetadataTripwire> {
    const hits: string[] = []
    const server = createServer((req, res) => {
      hits.push(req.url ?? '')
      res.writeHead(404, { connection: 'close' }).end('tripwire')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return new MetadataTripwire(server, `127.0.0.1:${(server.address() as AddressInfo).port}`, hits)
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
