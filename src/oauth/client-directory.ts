import type {ClientRecord, Store} from '../store/types.js'

/**
 * Clients by id, cached in memory and dropped whenever another process (the CLI) commits to the
 * store: a client revoked with `oauth-revoke-client` is refused on its very next request, and
 * the hot path does one cheap `PRAGMA data_version` instead of a lookup.
 */
export function createClientDirectory(store: Store, {maxEntries = 10_000}: {maxEntries?: number} = {}) {
  const cache = new Map<string, ClientRecord | null>()
  let seen = store.changeCounter()

  return {
    async get(id: string): Promise<ClientRecord | undefined> {
      const version = store.changeCounter()
      if (version !== seen) {
        cache.clear()
        seen = version
      }
      const hit = cache.get(id)
      if (hit !== undefined) return hit ?? undefined
      const client = (await store.clients.findById(id)) ?? null
      if (cache.size >= maxEntries) cache.clear()
      cache.set(id, client)
      return client ?? undefined
    },
    /** For changes this process made itself (its own writes do not move the change counter). */
    forget(id: string): void {
      cache.delete(id)
    },
  }
}

export type ClientDirectory = ReturnType<typeof createClientDirectory>
