import type {Clock} from '../clock.js'
import {watchTopics} from '../store/changes.js'
import type {Store} from '../store/types.js'

/**
 * Revoked access tokens (by jti) that have not expired, in memory for a Set lookup per request;
 * reloaded when the store's change feed says revocations changed (this process, the CLI or
 * another daemon), pruned of expired entries in the store periodically.
 */
export async function loadRevocationList({store, clock}: {store: Store; clock: Clock}) {
  let revoked = new Set<string>()
  const watch = watchTopics(store.changes, ['revokedTokens'])

  async function reload() {
    watch.loading()
    try {
      revoked = new Set(await store.tokens.revokedAccessTokens(clock.now()))
    } catch (error) {
      watch.invalidate()
      throw error
    }
  }
  await reload()

  return {
    /** Whether the jti was revoked (call `refresh` first on the request path). */
    has: (jti: string) => revoked.has(jti),
    async refresh() {
      if (watch.stale()) await reload()
    },
    async add(entry: {jti: string; clientId: string; expiresAt: number}) {
      await store.tokens.revokeAccessToken({...entry, at: clock.now()})
      revoked.add(entry.jti)
    },
    /** Deletes expired revocation records and used assertions. */
    async prune() {
      const removed = await store.tokens.pruneExpired(clock.now())
      await reload()
      return removed
    },
    size: () => revoked.size,
    close: watch.close,
  }
}

export type RevocationList = Awaited<ReturnType<typeof loadRevocationList>>
