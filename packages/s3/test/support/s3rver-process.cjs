// Runs s3rver in its own process so that it can use `--openssl-legacy-provider`: s3rver encrypts
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through the legacy
// provider (without it, every truncated listing page fails). Usage:
//   node --openssl-legacy-provider s3rver-process.cjs <directory> <bucket>
// Prints `listening <port>` once the server accepts connections.
//
// TEST-SERVER EXTENSION — conditional requests. s3rver 3.7.1 ignores `If-None-Match` and
// `If-Match` on PutObject and `If-Match` on DeleteObject. This file adds them in front of s3rver's
// own routes, mirroring documented Amazon S3 behaviour (S3 User Guide, "How to prevent object
// overwrites with conditional writes" and "How to perform conditional deletes"; API Reference,
// PutObject `If-None-Match` / `If-Match` and DeleteObject `If-Match`):
//   - PutObject (`PUT /<bucket>/<key>` without `x-amz-copy-source`) with `If-None-Match: *`:
//     412 PreconditionFailed when the object exists.
//   - PutObject with `If-Match: <etag>`: 412 PreconditionFailed when the object is absent or its
//     ETag differs (`*` matches any existing object).
//   - DeleteObject with `If-Match: <etag>`: 412 PreconditionFailed when the ETag differs,
//     404 NoSuchKey when the object is absent.
// Atomicity: every object request (GET, HEAD, PUT incl. copy destination, DELETE) on one key runs
// under a per-key mutex held until s3rver's handler has finished (for a PUT: the body, MD5 and
// metadata are stored). A check and s3rver's write are therefore one step for any other request on
// that key, and a HEAD never sees s3rver's half-written files (its store truncates the object
// file, then writes the MD5 and the metadata).
// S3 answers 409 ConditionalRequestConflict when conditional writes overlap; serialized here,
// they all get a definite 201/412 instead, which is one of the outcomes S3 allows.
'use strict'
const S3rver = require('s3rver')
const S3Error = require('s3rver/lib/models/error')

/** Per-key FIFO mutex: `acquire(name)` resolves to a release function. */
function createKeyMutex() {
  const tails = new Map()
  return {
    async acquire(name) {
      const previous = tails.get(name) ?? Promise.resolve()
      let release
      const current = new Promise((resolve) => (release = resolve))
      const tail = previous.then(() => current)
      tails.set(name, tail)
      await previous
      let released = false
      return () => {
        if (released) return
        released = true
        release()
        if (tails.get(name) === tail) tails.delete(name)
      }
    },
  }
}

/** `{ bucket, key }` of a path-style object URL, or undefined for service/bucket requests. */
function objectOf(path) {
  const match = /^\/([^/]+)\/(.+)$/.exec(path)
  if (!match) return undefined
  try {
    return { bucket: decodeURIComponent(match[1]), key: decodeURIComponent(match[2]) }
  } catch {
    return undefined // s3rver's router reports the malformed name
  }
}

/** The current ETag (quoted, as S3 sends it) or undefined when the object does not exist. */
async function currentEtag(store, bucket, key) {
  try {
    return (await store.getMetadata(bucket, key)).etag
  } catch (error) {
    if (error && error.code === 'ENOENT') return undefined
    throw error
  }
}

/** RFC 7232 entity-tag comparison as S3 applies it: quotes optional, `*` matches any object. */
function etagMatches(header, etag) {
  if (etag === undefined) return false
  const unquote = (tag) => tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1')
  return header.split(',').some((tag) => tag.trim() === '*' || unquote(tag) === unquote(etag))
}

function preconditionFailed(condition) {
  return new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
    Condition: condition,
  })
}

/** Koa middleware: per-key serialization plus the conditional checks described above. */
function conditionalRequests(store) {
  const mutex = createKeyMutex()
  return async function conditionalRequests(ctx, next) {
    const target = ['GET', 'HEAD', 'PUT', 'DELETE'].includes(ctx.method) ? objectOf(ctx.path) : undefined
    if (target === undefined) return next()
    // Sub-resource requests (?tagging, ?uploadId, …) are not the object operations checked here;
    // the SDK's own `x-id` operation marker is not a sub-resource.
    const plain = Object.keys(ctx.query).every((name) => name === 'x-id')

    const release = await mutex.acquire(`${target.bucket}/${target.key}`)
    // Released once s3rver has finished (a PUT's body is then fully stored), or earlier if the
    // client goes away mid-request.
    ctx.res.once('close', release)
    try {
      const ifNoneMatch = ctx.get('if-none-match')
      const ifMatch = ctx.get('if-match')
      const isPut = ctx.method === 'PUT' && !('x-amz-copy-source' in ctx.headers)
      if (plain && isPut && (ifNoneMatch || ifMatch)) {
        if (ifNoneMatch && ifNoneMatch.trim() !== '*') {
          throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
            Header: 'If-None-Match',
          })
        }
        const etag = await currentEtag(store, target.bucket, target.key)
        if (ifNoneMatch && etag !== undefined) throw preconditionFailed('If-None-Match')
        if (ifMatch && !etagMatches(ifMatch, etag)) throw preconditionFailed('If-Match')
      } else if (plain && ctx.method === 'DELETE' && ifMatch) {
        const etag = await currentEtag(store, target.bucket, target.key)
        if (etag === undefined) {
          throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: target.key })
        }
        if (!etagMatches(ifMatch, etag)) throw preconditionFailed('If-Match')
      }
      await next()
    } catch (error) {
      // The request body of a refused PUT is never read; drain it so the connection stays usable.
      ctx.req.resume()
      throw error
    } finally {
      release()
    }
  }
}

const [directory, bucket] = process.argv.slice(2)
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
})
// s3rver is a Koa app whose last middleware is its router: run the extension just before it
// (after its path-style/virtual-host rewrite, so `ctx.path` is `/<bucket>/<key>`).
const router = server.middleware[server.middleware.length - 1]
if (!router || router.name !== 'dispatch' || !router.router) {
  throw new Error('s3rver layout changed: its last Koa middleware is no longer the router')
}
server.middleware.splice(server.middleware.length - 1, 0, conditionalRequests(server.store))
server.run().then(
  (address) => process.stdout.write(`listening ${address.port}\n`),
  (error) => {
    process.stderr.write(`s3rver failed to start: ${error && error.stack}\n`)
    process.exit(1)
  },
)
