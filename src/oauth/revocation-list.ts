import type {Clock} from '../clock.js'
import type {Store} from '../store/types.js'

/**
 * Revoked access tokens (by jti) that have not expired, in memory for a Set lookup per request;
 * reloaded when another process commits, pruned of expired entries in the store periodically.
 */
export async function loadRevocationList({store, clock}: {store: Store; clock: Clock}) {
  let revoked = new Set<string>()
  let seen = -1

  async function reload() {
    seen = store.changeCounter()
    revoked = new Set(await store.tokens.revokedAccessTokens(clock.now()))
  }
  await reload()

  return {
    /** Whether the jti was revoked (call `refresh` first on the request path). */
    has: (jti: string) => revoked.has(jti),
    async refresh() {
      if (store.changeCounter() !== seen) await reload()
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
  }
}

export type RevocationList = Awaited<ReturnType<typeof loadRevocationList>>
