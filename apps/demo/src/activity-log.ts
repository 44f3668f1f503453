/** A noteworthy event for the dashboard's activity feed. */
export interface ActivityEvent {
  /** Increasing id, so a client can ask for what it has not seen. */
  id: number
  t: number
  level: 'info' | 'warn'
  message: string
}

/**
 * The last `capacity` events (invalidations, refresh failures, writer restarts, load changes).
 * Repeats of one message within a second are folded into a count, so a burst of identical
 * failures does not flood the feed.
 *
 * @example
 * const log = new ActivityLog()
 * log.add('info', 'load started')
 * log.since(0) // [{ id: 1, t: …, level: 'info', message: 'load started' }]
 */
export class ActivityLog {
  private readonly events: ActivityEvent[] = []
  private nextId = 1
  private folded = new Map<string, { event: ActivityEvent; count: number }>()

  constructor(private readonly capacity = 200) {}

  add(level: 'info' | 'warn', message: string, now = Date.now()): void {
    const recent = this.folded.get(message)
    if (recent !== undefined && now - recent.event.t < 1000) {
      recent.count += 1
      recent.event.message = `${message} (×${recent.count})`
      return
    }
    const event: ActivityEvent = { id: this.nextId++, t: now, level, message }
    this.events.push(event)
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity)
    if (this.folded.size > 100) this.folded.clear()
    this.folded.set(message, { event, count: 1 })
  }

  /** Events with an id above `id`, oldest first (at most the last 50). */
  since(id: number): ActivityEvent[] {
    return this.events.filter((e) => e.id > id).slice(-50).map((e) => ({ ...e }))
  }
}
