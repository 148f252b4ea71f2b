/**
 * One change feed per store: every cache in the daemon (clients, signing keys, revoked tokens,
 * revoked grants) subscribes to it instead of relying on call sites to mark it stale.
 *
 * - This process's own writes are announced by the store itself, right after they commit
 *   (src/store/announce.ts wraps every writing repository method).
 * - Other processes' writes (the CLI, other daemons) arrive the way the backend can tell:
 *   SQLite's `PRAGMA data_version` read once per event-loop turn (`check()`), PostgreSQL's
 *   LISTEN/NOTIFY plus a periodic version check. When a backend cannot tell what changed (SQLite,
 *   or a PostgreSQL connection that was lost), it announces `'all'`.
 */
export type ChangeTopic = 'clients' | 'signingKeys' | 'revokedTokens' | 'grants' | 'consents' | 'owner' | 'secrets' | 'budgets' | 'users'

export const CHANGE_TOPICS: readonly ChangeTopic[] = ['clients', 'signingKeys', 'revokedTokens', 'grants', 'consents', 'owner', 'secrets', 'budgets', 'users']

export type ChangeListener = (topic: ChangeTopic | 'all') => void

export interface StoreChanges {
  /** Calls `listener` after each committed change; returns the function that unsubscribes. */
  subscribe(listener: ChangeListener): () => void
  /**
   * Looks for other processes' changes now where the backend must ask (SQLite); a no-op where
   * they are pushed (PostgreSQL). Cheap enough for every request: call it before trusting a cache.
   */
  check(): void
}

/** The feed a backend owns: `emit` is for the store's own code, not for its users. */
export interface ChangeFeed extends StoreChanges {
  emit(topic: ChangeTopic | 'all'): void
}

/** A feed with a backend-specific `check` (default: nothing to ask). */
export function createChangeFeed(check: () => void = () => {}): ChangeFeed {
  const listeners = new Set<ChangeListener>()
  return {
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    check,
    emit(topic) {
      for (const listener of [...listeners]) listener(topic)
    },
  }
}

/**
 * What a cache keeps: whether something it depends on changed since it last loaded. `stale()`
 * asks the feed first (so a CLI write is seen on the next request), and `loading()` is called
 * just before a reload: a change that lands while loading marks it stale again.
 */
export function watchTopics(changes: StoreChanges, topics: readonly ChangeTopic[]) {
  let stale = true
  const wanted = new Set(topics)
  const unsubscribe = changes.subscribe((topic) => {
    if (topic === 'all' || wanted.has(topic)) stale = true
  })
  return {
    stale(): boolean {
      changes.check()
      return stale
    },
    loading(): void {
      stale = false
    },
    /** Forces the next `stale()` to say yes (a failed load). */
    invalidate(): void {
      stale = true
    },
    close: unsubscribe,
  }
}
