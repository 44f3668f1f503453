import { isNativeError } from 'node:util/types'
import type { ErrorHandler, ErrorInfo, MetricsCollector } from './types.js'

/** Where background warnings go. `console` by default; `null` silences them. */
export interface Logger {
  warn(message: string, error?: unknown): void
}

/** The class name of an error, for metric labels (`TimeoutError`, `TypeError`, …). */
export function errorTypeOf(error: unknown): string {
  // isNativeError: errors made by Node itself (ENOTDIR…) in another realm (a vm context, jest) fail instanceof.
  if (error instanceof Error || isNativeError(error)) return (error as Error).name || (error as Error).constructor?.name || 'Error'
  return typeof error === 'object' && error !== null ? 'Object' : typeof error
}

/**
 * Reports a failure that must not reach the caller: counts it, then hands it to `onError`, or logs
 * a warning when there is no `onError`. A throwing `onError` is contained (logged), never rethrown.
 */
export function reportError(
  error: unknown,
  info: ErrorInfo,
  metrics: MetricsCollector | undefined,
  onError: ErrorHandler | undefined,
  logger: Logger | null,
): void {
  try {
    metrics?.recordError(info.cacheName, info.operation, errorTypeOf(error))
  } catch {
    // A broken metrics exporter must not turn a reported failure into a thrown one.
  }
  if (onError !== undefined) {
    try {
      onError(error, info)
      return
    } catch (handlerError) {
      logger?.warn(`acache: onError threw while handling a ${info.operation} failure of "${info.cacheName}"`, handlerError)
      return
    }
  }
  logger?.warn(`acache: ${info.operation} failed for "${info.cacheName}" (key ${JSON.stringify(info.key)})`, error)
}

export const consoleLogger: Logger = {
  warn(message, error) {
    console.warn(message, error)
  },
}

export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function'
}

/** Checks an options object: a plain object whose keys are all known. Throws a TypeError naming the unknown one. */
export function checkOptionKeys(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object`)
  }
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new TypeError(`${where}: unknown option "${k}" (known: ${known.join(', ')})`)
  }
}

export function checkLogger(where: string, logger: unknown): Logger | null {
  if (logger === undefined) return consoleLogger
  if (logger === null) return null
  if (typeof logger === 'object' && typeof (logger as Logger).warn === 'function') return logger as Logger
  throw new TypeError(`${where}: option "logger" must be an object with a warn(message, error) method, or null`)
}

export function checkOnError(where: string, onError: unknown): ErrorHandler | undefined {
  if (onError === undefined || typeof onError === 'function') return onError as ErrorHandler | undefined
  throw new TypeError(`${where}: option "onError" must be a function (error, info) => void`)
}
