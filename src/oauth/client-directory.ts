import {watchTopics} from '../store/changes.js'
import type {ClientRecord, Store} from '../store/types.js'

/**
 * Clients by id, cached in memory and dropped whenever the store's change feed reports a client
 * change (this process's own writes, the CLI's, another daemon's): a client revoked with
 * `oauth-revoke-client` is refused on its very next request, and the hot path asks the feed
 * (one cheap check per event-loop turn on SQLite, nothing on PostgreSQL) instead of a lookup.
 */
export function createClientDirectory(store: Store, {maxEntries = 10_000}: {maxEntries?: number} = {}) {
  const cache = new Map<string, ClientRecord | null>()
  const watch = watchTopics(store.changes, ['clients'])

  return {
    async get(id: string): Promise<ClientRecord | undefined> {
      if (watch.stale()) {
        cache.clear()
        watch.loading()
      }
      const hit = cache.get(id)
      if (hit !== undefined) return hit ?? undefined
      const client = (await store.clients.findById(id)) ?? null
      // A change announced while the lookup ran may concern this very client: don't keep it.
      if (watch.stale()) return client ?? undefined
      if (cache.size >= maxEntries) cache.clear()
      cache.set(id, client)
      return client ?? undefined
    },
    close: watch.close,
  }
}

export type ClientDirectory = ReturnType<typeof createClientDirectory>
