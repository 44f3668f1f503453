/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failures?: number
  /** Seconds the circuit stays open before one probe is let through (half-open). Default 5. */
  cooldown?: number
  /** The clock, in ms (tests inject one). Default `Date.now`. */
  now?: () => number
}

/** `closed`: calls pass. `open`: calls are refused at once. `half-open`: one probe is in flight. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * A circuit breaker: after `failures` consecutive failures it opens and refuses calls at once; after
 * `cooldown` seconds it lets one call through (half-open) — a success closes it, a failure opens it
 * for another `cooldown`.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ failures: 5, cooldown: 5 })
 * if (!breaker.allow()) throw new Error('skipped')
 * try { await call(); breaker.success() } catch (e) { breaker.failure(); throw e }
 * ```
 */
export class CircuitBreaker {
  readonly failureThreshold: number
  /** Cool-down in ms. */
  readonly cooldownMs: number
  private readonly now: () => number
  private consecutive = 0
  private openedAt = 0
  private _state: CircuitState = 'closed'

  constructor(options: CircuitBreakerOptions = {}) {
    const { failures = 5, cooldown = 5 } = options
    if (!Number.isInteger(failures) || failures < 1) {
      throw new TypeError(`option "breaker.failures" must be an integer >= 1 (got ${String(failures)})`)
    }
    if (typeof cooldown !== 'number' || !(cooldown >= 0) || !Number.isFinite(cooldown)) {
      throw new TypeError(`option "breaker.cooldown" must be a number of seconds >= 0 (got ${String(cooldown)})`)
    }
    this.failureThreshold = failures
    this.cooldownMs = cooldown * 1000
    this.now = options.now ?? Date.now
  }

  get state(): CircuitState {
    return this._state
  }

  /** Whether a call may go ahead now. In the open state after the cool-down, the first caller becomes the probe. */
  allow(): boolean {
    if (this._state === 'closed') return true
    if (this._state === 'open' && this.now() - this.openedAt >= this.cooldownMs) {
      this._state = 'half-open'
      return true
    }
    return false
  }

  success(): void {
    this.consecutive = 0
    this._state = 'closed'
  }

  failure(): void {
    if (this._state === 'half-open') {
      this.open()
      return
    }
    if (++this.consecutive >= this.failureThreshold && this._state === 'closed') this.open()
  }

  /** Ends the cool-down early (the connection came back): the next call probes. */
  probeNow(): void {
    if (this._state === 'open') this.openedAt = this.now() - this.cooldownMs
  }

  private open(): void {
    this._state = 'open'
    this.openedAt = this.now()
  }
}
