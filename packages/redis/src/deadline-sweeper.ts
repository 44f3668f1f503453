import { TimeoutError } from '@acache/core'

/** What {@link DeadlineSweeper.track} returns: where the operation sits, for {@link DeadlineSweeper.untrack}. */
export interface DeadlineTicket {
  readonly bucket: Array<((error: Error) => void) | undefined>
  readonly index: number
}

/**
 * Puts a deadline on promises without a timer per operation.
 *
 * A `setTimeout` per Redis command costs more than the command itself at pipelined rates, so
 * operations are put into the current *bucket*; one coarse interval (running only while something
 * is pending, `unref`ed) closes the bucket every `granularity` ms and rejects every operation of the
 * buckets older than the deadline. Rejecting an already settled promise is a no-op, so settled
 * operations need no bookkeeping — though {@link untrack} lets them be collected at once. A
 * bucket's deadline counts from when it *opened*, and a bucket expires at the last tick that is
 * not more than half a tick before its deadline, so the deadline is an upper bound: an operation
 * fails after `timeout − 1.5 × granularity` to `timeout` ms (plus the timer's own lateness).
 *
 * @example
 * ```ts
 * const deadlines = new DeadlineSweeper(500, (ms) => new TimeoutError(`no answer within ${ms} ms`))
 * const value = await deadlines.bound(client.get('k'))   // rejects with TimeoutError when hung
 * deadlines.stop()
 * ```
 */
export class DeadlineSweeper {
  /** Tick length in ms. */
  readonly granularity: number
  private current: Array<((error: Error) => void) | undefined> = []
  /** When `current` opened: its operations started at or after this time. */
  private currentOpenedAt = 0
  private readonly expiring: Array<{ deadline: number; rejects: Array<((error: Error) => void) | undefined> }> = []
  private timer: ReturnType<typeof setInterval> | undefined

  /**
   * @param timeout the deadline in ms (> 0).
   * @param makeError builds the rejection (called once per expiring bucket).
   */
  constructor(
    readonly timeout: number,
    private readonly makeError: (timeoutMs: number) => Error = (ms) => new TimeoutError(`operation timed out after ${ms} ms`),
  ) {
    // Coarse on purpose: a tenth of the deadline, between 5 and 100 ms.
    this.granularity = Math.min(100, Math.max(5, Math.round(timeout / 10)))
  }

  /** `promise`, or a rejection once its deadline passed. The original promise's late failure is swallowed. */
  bound<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      promise.then(resolve, reject)
      this.current.push(reject)
      if (this.timer === undefined) this.start()
    })
  }

  /**
   * Calls `onTimeout` once the deadline of an operation starting now passed (a no-op for the caller
   * if it settled meanwhile). Returns a ticket for {@link untrack}.
   *
   * @example
   * ```ts
   * const ticket = deadlines.track((error) => settle(error))
   * client.get('k').then((v) => { deadlines.untrack(ticket); settle(undefined, v) })
   * ```
   */
  track(onTimeout: (error: Error) => void): DeadlineTicket {
    const bucket = this.current
    bucket.push(onTimeout)
    if (this.timer === undefined) this.start()
    return { bucket, index: bucket.length - 1 }
  }

  /**
   * Forgets a settled operation at once. Optional, but it lets the operation's callbacks (and what
   * they hold) be collected young instead of living in a bucket until its deadline — at tens of
   * thousands of operations per second that is most of the garbage collector's work.
   */
  untrack(ticket: DeadlineTicket): void {
    ticket.bucket[ticket.index] = undefined
  }

  /** How many operations may still be pending (settled ones are only dropped when their bucket expires). */
  get tracked(): number {
    let n = this.current.length
    for (const b of this.expiring) n += b.rejects.length
    return n
  }

  /** Stops the interval; pending operations are rejected now. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    const error = this.makeError(this.timeout)
    for (const b of this.expiring.splice(0)) for (const reject of b.rejects) reject?.(error)
    for (const reject of this.current.splice(0)) reject?.(error)
  }

  private start(): void {
    this.currentOpenedAt = performance.now()
    this.timer = setInterval(() => this.sweep(), this.granularity)
    this.timer.unref()
  }

  private sweep(): void {
    const now = performance.now()
    if (this.current.length > 0) {
      // Everything in `current` started at or after it opened: counting from then keeps the
      // deadline an upper bound (operations may fail up to one tick early, never late).
      this.expiring.push({ deadline: this.currentOpenedAt + this.timeout, rejects: this.current })
      this.current = []
    }
    this.currentOpenedAt = now
    let error: Error | undefined
    // Half a tick of slack: timers can run a little before their due time as performance.now()
    // sees it, and waiting for the next tick would then overrun the deadline by a whole tick.
    const due = now + this.granularity / 2
    while (this.expiring.length > 0 && this.expiring[0].deadline <= due) {
      error ??= this.makeError(this.timeout)
      for (const reject of this.expiring.shift()!.rejects) reject?.(error)
    }
    if (this.expiring.length === 0 && this.current.length === 0) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }
}
