import { TimeoutError } from '@acache/core'

/**
 * Resolves or rejects like `work`, or rejects with a `TimeoutError` after `ms` milliseconds,
 * whichever comes first. The request behind `work` is not cancelled (the GCS client's calls take
 * no abort signal); its late outcome is ignored, never an unhandled rejection.
 *
 * @example
 * ```ts
 * const [metadata] = await withDeadline(file.getMetadata(), 5000, 'GCSCache get')
 * ```
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  work.catch(() => undefined)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}
