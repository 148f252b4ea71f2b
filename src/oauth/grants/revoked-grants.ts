import type {Clock} from '../../clock.js'
import type {Store} from '../../store/types.js'
import {MAX_ACCESS_TOKEN_TTL_MS} from './issue-tokens.js'

/**
 * Ids of revoked grants, in memory for a Set lookup per request (like revocation-list.ts):
 * reloaded when another process commits (the CLI revoking a consent), or when this process
 * revoked one itself (`markStale`). A grant revoked longer ago than the longest access token
 * lifetime has no live access token left, so it is not kept.
 */
export async function loadRevokedGrants({store, clock}: {store: Store; clock: Clock}) {
  let revoked = new Set<string>()
  let seen = -1
  const reload = async () => {
    seen = store.changeCounter()
    revoked = new Set(await store.grants.revokedSince(clock.now() - MAX_ACCESS_TOKEN_TTL_MS))
  }
  await reload()
  return {
    has: (grantId: string) => revoked.has(grantId),
    async refresh() {
      if (store.changeCounter() !== seen) await reload()
    },
    markStale() {
      seen = -1
    },
  }
}

export type RevokedGrants = Awaited<ReturnType<typeof loadRevokedGrants>>
