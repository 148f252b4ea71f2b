import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import {StoreUnavailableError, storeErrorLine} from '../store/errors.js'
import type {AuditEvent, Store} from '../store/types.js'

/** What waits to be written, for `gatehouse status` (`audit` in src/daemon/status-report.ts). */
export interface AuditBacklog {
  /** Events noted but not yet in the store (buffered, or being written now). */
  pending: number
  /** The bound on `pending`: beyond it the oldest events are dropped. */
  maxBuffered: number
  /** Events dropped and not yet told of by an `audit.dropped` event in the store. */
  dropped: number
  /** Events dropped since the daemon started. */
  droppedTotal: number
  /** Since when writes have been failing (the store away), ms since the epoch; null when they succeed. */
  failingSince: number | null
}

export interface AuditLog {
  /** Notes an event; written with others in one transaction shortly after, off the request path. */
  record(event: Omit<AuditEvent, 'time'> & {time?: number}): void
  flush(): Promise<void>
  close(): Promise<void>
}

/** The event that tells of dropped ones: `detail.count` of them, `detail.bound` the buffer's bound. */
export const AUDIT_DROPPED_EVENT = 'audit.dropped'

/**
 * The daemon's audit trail writer: events are buffered in memory and written in batches every
 * `flushIntervalMs` (or sooner when `batchSize` are waiting), at most `maxBatch` per statement.
 *
 * The store away (StoreUnavailableError: PostgreSQL unreachable) loses nothing within the bound:
 * a batch that could not be written goes back to the front of the buffer, and is tried again
 * every `retryMs` until the store answers, oldest first. At most `maxBuffered` events wait
 * (default 50,000, a few tens of MB at most); beyond that the oldest are dropped and counted,
 * and once the store is back one `audit.dropped` event (client null, outcome `error`,
 * detail `{count, bound}`) is written saying how many. A batch the store refuses for another
 * reason (it would fail again) is dropped and counted the same way. Old events are pruned after
 * `retentionDays`.
 */
export function createAuditLog({
  store,
  clock,
  logger,
  flushIntervalMs = 250,
  batchSize = 500,
  maxBatch = 5000,
  maxBuffered = 50_000,
  retryMs = 1000,
  retentionDays = 30,
}: {
  store: Store
  clock: Clock
  logger: Logger
  flushIntervalMs?: number
  batchSize?: number
  maxBatch?: number
  maxBuffered?: number
  retryMs?: number
  retentionDays?: number
}): AuditLog & {prune(): Promise<number>; backlog(): AuditBacklog} {
  let buffer: AuditEvent[] = []
  let writing = 0
  let dropped = 0
  let droppedTotal = 0
  let failingSince: number | null = null
  let retryAt = 0
  let flushing: Promise<void> | undefined

  /** Keeps the buffer (plus what is being written) within its bound by dropping the oldest. */
  const bound = () => {
    const over = buffer.length + writing - maxBuffered
    if (over > 0) {
      // One over (the common case while the store is away): shift, which V8 does in place (left-trim).
      if (over === 1 && buffer.length > 0) buffer.shift()
      else buffer.splice(0, Math.min(over, buffer.length))
      dropped += over
      droppedTotal += over
    }
  }

  const writeAll = async (): Promise<void> => {
    while (buffer.length > 0 || dropped > 0) {
      const batch = buffer.splice(0, maxBatch)
      // Told of after the events that came before the drop; counted again if this write fails.
      const told = buffer.length === 0 && dropped > 0 ? dropped : 0
      const events = told > 0 ? [...batch, {time: clock.now(), event: AUDIT_DROPPED_EVENT, clientId: null, outcome: 'error', detail: {count: told, bound: maxBuffered}}] : batch
      writing = batch.length
      try {
        await store.audit.append(events)
      } catch (error) {
        writing = 0
        if (error instanceof StoreUnavailableError) {
          // Back to the front, oldest first; tried again once the store may be back.
          buffer = batch.concat(buffer)
          bound()
          retryAt = clock.now() + retryMs
          if (failingSince === null) {
            failingSince = clock.now()
            logger.warn('audit events wait in memory until the store is back', {pending: buffer.length, bound: maxBuffered, error: storeErrorLine(error)})
          }
          return
        }
        logger.error('audit events could not be written and are dropped', {count: batch.length, error: storeErrorLine(error)})
        dropped += batch.length
        droppedTotal += batch.length
        retryAt = clock.now() + retryMs
        return
      }
      writing = 0
      dropped -= told
      if (told > 0) logger.warn('audit events were dropped beyond the buffer\'s bound; recorded as an audit.dropped event', {count: told, bound: maxBuffered})
      if (failingSince !== null) {
        logger.info('audit events written again after the store came back', {waited_seconds: Math.round((clock.now() - failingSince) / 1000)})
        failingSince = null
      }
    }
  }

  const flush = (force = false): Promise<void> => {
    if (flushing) return flushing
    if (buffer.length === 0 && dropped === 0) return Promise.resolve()
    if (!force && clock.now() < retryAt) return Promise.resolve()
    flushing = writeAll().finally(() => (flushing = undefined))
    return flushing
  }
  const timer = setInterval(() => void flush(), flushIntervalMs)
  timer.unref()

  return {
    record(event) {
      buffer.push({...event, time: event.time ?? clock.now()})
      bound()
      if (buffer.length >= batchSize) void flush()
    },
    flush: async () => {
      await flushing
      await flush(true)
    },
    async close() {
      clearInterval(timer)
      await flushing
      await flush(true)
      if (buffer.length > 0) logger.error('audit events could not be written before stopping', {count: buffer.length, error: 'the store is unavailable'})
    },
    backlog: () => ({pending: buffer.length + writing, maxBuffered, dropped, droppedTotal, failingSince}),
    prune: () => store.audit.prune(clock.now() - retentionDays * 86_400_000),
  }
}
