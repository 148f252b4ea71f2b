import type {Logger} from '../log.js'
import type {AuditRecord, Store} from '../store/types.js'

export type AuditListener = (records: AuditRecord[]) => void

/**
 * New audit events as they reach the store, for the console's live view: one poller for every
 * viewer, running only while someone watches. Polling the store (not the daemon's own writer)
 * also shows what the CLI and other daemons on the same store record. The daemon's writer
 * flushes every 250 ms; with the default 250 ms here, an event is on screen within about half a
 * second.
 */
export function createAuditFeed({store, logger, intervalMs = 250, batch = 500}: {store: Store; logger: Logger; intervalMs?: number; batch?: number}) {
  const listeners = new Set<AuditListener>()
  let cursor: number | undefined
  let starting: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  let running = false

  const poll = async () => {
    if (running || cursor === undefined) return
    running = true
    try {
      for (;;) {
        const rows = await store.audit.query({afterId: cursor, limit: batch})
        if (rows.length === 0) break
        cursor = rows[rows.length - 1]!.id
        for (const l of [...listeners]) l(rows)
        if (rows.length < batch) break
      }
    } catch (error) {
      logger.warn('console: the audit feed could not read the store', {error: (error as Error).message})
    } finally {
      running = false
    }
  }

  return {
    /**
     * Calls `listener` with each batch of events newer than the store's newest at the time this
     * resolves (oldest first); resolves to the unsubscribe function. A viewer that reads its
     * backlog after this resolves misses nothing (and drops what it sees twice, by id).
     */
    async subscribe(listener: AuditListener): Promise<() => void> {
      listeners.add(listener)
      if (cursor === undefined) {
        starting ??= store.audit.query({newestFirst: true, limit: 1}).then(
          (rows) => {
            cursor = rows[0]?.id ?? 0
            starting = undefined
          },
          (error: Error) => {
            starting = undefined
            throw error
          },
        )
        await starting
      }
      if (!timer) {
        timer = setInterval(() => void poll(), intervalMs)
        timer.unref()
      }
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && timer) {
          clearInterval(timer)
          timer = undefined
          cursor = undefined
        }
      }
    },
    get watchers(): number {
      return listeners.size
    },
    close(): void {
      listeners.clear()
      if (timer) clearInterval(timer)
      timer = undefined
    },
  }
}

export type AuditFeed = ReturnType<typeof createAuditFeed>
