/**
 * Whether this daemon's store answers, watched from inside the daemon for `gatehouse status`:
 * a trivial query (`Store.ping`) every `intervalMs`, each bounded by `timeoutMs`, and once more
 * when the status is asked for. It remembers since when the store has been in its current state
 * and the last failure in one line (src/store/errors.ts storeErrorLine: no credentials).
 *
 * Requests never wait on this: each one that needs the store finds out by itself (and is refused
 * with Retry-After while it is away, src/http/respond.ts). This only reports.
 */
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import {storeErrorLine} from '../store/errors.js'
import type {Store} from '../store/types.js'

export interface StoreHealthSnapshot {
  reachable: boolean
  /** ms since the epoch: when the store last became reachable (or the daemon started) or unreachable. */
  since: number
  /** When it was last asked, ms since the epoch. */
  checkedAt: number
  /** The last failure, one line, or null when it has never failed since the daemon started. */
  lastError: string | null
  /** When that failure was seen, ms since the epoch. */
  lastErrorAt: number | null
}

export interface StoreHealth {
  /** Asks the store now (bounded by timeoutMs) and returns the updated state. Never throws. */
  check(): Promise<StoreHealthSnapshot>
  snapshot(): StoreHealthSnapshot
  close(): void
}

export function watchStoreHealth({
  store,
  clock,
  logger,
  intervalMs = 1000,
  timeoutMs = 1500,
}: {
  store: Pick<Store, 'ping' | 'describe'>
  clock: Clock
  logger: Logger
  intervalMs?: number
  timeoutMs?: number
}): StoreHealth {
  const started = clock.now()
  let state: StoreHealthSnapshot = {reachable: true, since: started, checkedAt: started, lastError: null, lastErrorAt: null}
  let inFlight: Promise<StoreHealthSnapshot> | undefined

  const probe = async (): Promise<StoreHealthSnapshot> => {
    let timer: NodeJS.Timeout | undefined
    const failure = await Promise.race([
      store.ping().then(
        () => null,
        (error: unknown) => storeErrorLine(error),
      ),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs))),
    ])
    clearTimeout(timer)
    const now = clock.now()
    const reachable = failure === null
    if (reachable !== state.reachable) {
      if (reachable) logger.info('the store is reachable again', {store: store.describe(), after_seconds: Math.round((now - state.since) / 1000)})
      else logger.warn('the store is unreachable', {store: store.describe(), error: failure})
    }
    state = {
      reachable,
      since: reachable === state.reachable ? state.since : now,
      checkedAt: now,
      lastError: failure ?? state.lastError,
      lastErrorAt: failure === null ? state.lastErrorAt : now,
    }
    return state
  }
  const check = () => (inFlight ??= probe().finally(() => (inFlight = undefined)))
  const timer = setInterval(() => void check(), intervalMs)
  timer.unref()
  return {check, snapshot: () => state, close: () => clearInterval(timer)}
}
