import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {Store} from '../store/types.js'

/**
 * Last-use times of clients, noted in memory on the hot path and written in one batch every
 * `intervalMs` (and at stop), so issuing a token never waits for the disk.
 */
export function createUsageRecorder({store, clock, logger, intervalMs = 5000}: {store: Store; clock: Clock; logger: Logger; intervalMs?: number}) {
  let pending = new Map<string, number>()
  const flush = async () => {
    if (pending.size === 0) return
    const batch = pending
    pending = new Map()
    try {
      await store.clients.touch(batch)
    } catch (error) {
      logger.warn('could not record client last-use times', {error: (error as Error).message})
    }
  }
  const timer = setInterval(() => void flush(), intervalMs)
  timer.unref()
  return {
    note(clientId: string): void {
      pending.set(clientId, clock.now())
    },
    flush,
    async close() {
      clearInterval(timer)
      await flush()
    },
  }
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>
