import { AsyncLocalStorage } from 'node:async_hooks'
import { TimeoutError } from './errors.js'
import { checkOptionKeys } from './error-reporting.js'
import { parseDuration } from './duration.js'
import { ended, whileRunning } from './shutdown.js'

/**
 * Loader deadlines and cancellation. A loader of a function with a `timeout` (or `refreshAhead`)
 * option runs inside an `AbortSignal` context: `cache.signal()` returns that signal, aborted when
 * the hard timeout passes or on `bg.shutdown()`. The context is an `AsyncLocalStorage`, created on
 * first use, so functions without these options pay nothing for it.
 */

/** Validated `timeout` option, in seconds (0 = none). */
export interface LoaderTimeouts {
  soft: number
  hard: number
}

/** A duration, or `{ soft?, hard? }`. */
export type TimeoutOption = number | string | { soft?: number | string; hard?: number | string }

/**
 * Parses the `timeout` option: a duration is the hard timeout; `{ soft, hard }` sets either or both
 * (soft must be shorter than hard when both are set).
 *
 * @example
 * parseTimeouts(2)                          // { soft: 0, hard: 2 }
 * parseTimeouts({ soft: '200ms', hard: 5 }) // { soft: 0.2, hard: 5 }
 */
export function parseTimeouts(value: unknown): LoaderTimeouts {
  if (typeof value === 'number' || typeof value === 'string') {
    return { soft: 0, hard: parseDuration(value, 'timeout', { allowZero: false }) }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError('cache(): option "timeout" must be a duration (the hard timeout) or { soft?, hard? }')
  }
  checkOptionKeys('cache(): option "timeout"', value, ['soft', 'hard'])
  const { soft, hard } = value as { soft?: unknown; hard?: unknown }
  const out = {
    soft: soft === undefined ? 0 : parseDuration(soft, 'timeout.soft', { allowZero: false }),
    hard: hard === undefined ? 0 : parseDuration(hard, 'timeout.hard', { allowZero: false }),
  }
  if (out.soft === 0 && out.hard === 0) throw new TypeError('cache(): option "timeout" needs "soft" and/or "hard"')
  if (out.soft > 0 && out.hard > 0 && out.soft >= out.hard) {
    throw new TypeError(`cache(): option "timeout.soft" (${out.soft} s) must be shorter than "timeout.hard" (${out.hard} s)`)
  }
  return out
}

let context: AsyncLocalStorage<AbortSignal> | undefined

/**
 * The `AbortSignal` of the load running in the current async context, or `undefined` outside a
 * loader (or in a loader of a function without `timeout` / `refreshAhead`). Exposed as `cache.signal()`.
 *
 * @example
 * const getUser = cache(60, { timeout: { hard: 2 } })(async (id: number) =>
 *   (await fetch(`https://api/users/${id}`, { signal: cache.signal() })).json(),
 * )
 */
export function loaderSignal(): AbortSignal | undefined {
  return context?.getStore()
}

/** The controller of one load: aborted on its hard timeout or on shutdown. */
export class LoadControl {
  readonly controller = new AbortController()
  private readonly stopper = { stop: () => this.abort(new Error('acache: shutting down')) }

  constructor() {
    whileRunning(this.stopper)
  }

  /** Runs `fn` with this load's signal as `cache.signal()`. */
  call(fn: (this: unknown, ...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
    context ??= new AsyncLocalStorage<AbortSignal>()
    return context.run(this.controller.signal, () => fn.apply(thisArg, args))
  }

  abort(reason: unknown): void {
    ended(this.stopper)
    if (!this.controller.signal.aborted) this.controller.abort(reason)
  }

  /** The load is over: it no longer needs aborting on shutdown. */
  done(): void {
    ended(this.stopper)
  }
}

/** The error a hard timeout rejects with. */
export function loaderTimeout(name: string, key: string, seconds: number): TimeoutError {
  return new TimeoutError(`cache(): "${name}" did not load key ${JSON.stringify(key)} within ${seconds} s (hard timeout)`)
}
