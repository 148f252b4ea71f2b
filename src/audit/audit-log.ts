import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {AuditEvent, Store} from '../store/types.js'

export interface AuditLog {
  /** Notes an event; written with others in one transaction shortly after, off the request path. */
  record(event: Omit<AuditEvent, 'time'> & {time?: number}): void
  flush(): Promise<void>
  close(): Promise<void>
}

/**
 * The daemon's audit trail writer: events are buffered in memory and written in batches every
 * `flushIntervalMs` (or sooner when `batchSize` are waiting). If the store cannot keep up, at
 * most `maxBuffered` events wait; older ones are dropped and the drop is logged, so a stuck
 * disk never grows memory without bound. Old events are pruned after `retentionDays`.
 */
export function createAuditLog({
  store,
  clock,
  logger,
  flushIntervalMs = 250,
  batchSize = 500,
  maxBuffered = 50_000,
  retentionDays = 30,
}: {
  store: Store
  clock: Clock
  logger: Logger
  flushIntervalMs?: number
  batchSize?: number
  maxBuffered?: number
  retentionDays?: number
}): AuditLog & {prune(): Promise<number>} {
  let buffer: AuditEvent[] = []
  let dropped = 0
  let flushing: Promise<void> | undefined

  const flush = async (): Promise<void> => {
    if (flushing) return flushing
    if (buffer.length === 0) return
    const batch = buffer
    buffer = []
    flushing = (async () => {
      try {
        await store.audit.append(batch)
      } catch (error) {
        logger.error('audit events could not be written', {count: batch.length, error: (error as Error).message})
      } finally {
        flushing = undefined
      }
      if (dropped > 0) {
        logger.warn('audit events dropped while the store was behind', {count: dropped})
        dropped = 0
      }
    })()
    return flushing
  }
  const timer = setInterval(() => void flush(), flushIntervalMs)
  timer.unref()

  return {
    record(event) {
      buffer.push({...event, time: event.time ?? clock.now()})
      if (buffer.length > maxBuffered) {
        buffer.shift()
        dropped++
      }
      if (buffer.length >= batchSize) void flush()
    },
    flush: async () => {
      await flushing
      await flush()
    },
    async close() {
      clearInterval(timer)
      await flushing
      await flush()
    },
    prune: () => store.audit.prune(clock.now() - retentionDays * 86_400_000),
  }
}
