// Runs s3rver in its own process so that it can use `--openssl-legacy-provider`: s3rver encrypts
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through the legacy
// provider (without it, every truncated listing page fails). Usage:
//   node --openssl-legacy-provider s3rver-process.cjs <directory> <bucket>
// Prints `listening <port>` once the server accepts connections.
'use strict'
const S3rver = require('s3rver')

const [directory, bucket] = process.argv.slice(2)
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
})
server.run().then(
  (address) => process.stdout.write(`listening ${address.port}\n`),
  (error) => {
    process.stderr.write(`s3rver failed to start: ${error && error.stack}\n`)
    process.exit(1)
  },
)
