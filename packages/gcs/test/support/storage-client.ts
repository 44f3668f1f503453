import { Storage } from '@google-cloud/storage'
import type { GcsFixture } from './gcs-fixture.js'

/** The real client, pointed at the fixture: no auth (custom endpoint), no retries. */
export function clientFor(fixture: GcsFixture | { endpoint: string }): Storage {
  return new Storage({ apiEndpoint: fixture.endpoint, projectId: 'acache-test', retryOptions: { autoRetry: false } })
}

let counter = 0
/** A prefix no other test of this run uses. */
export function uniquePrefix(label: string): string {
  counter += 1
  return `${label}-${process.pid}-${counter}/`
}
