import type {Clock} from '../../clock.js'
import {watchTopics} from '../../store/changes.js'
import type {Store} from '../../store/types.js'
import {MAX_ACCESS_TOKEN_TTL_MS} from './issue-tokens.js'

/**
 * Ids of revoked grants, in memory for a Set lookup per request (like revocation-list.ts):
 * reloaded when the store's change feed reports a grant change (this process revoking one, the
 * CLI revoking a consent, another daemon). A grant revoked longer ago than the longest access token
 * lifetime has no live access token left, so it is not kept.
 */
export async function loadRevokedGrants({store, clock}: {store: Store; clock: Clock}) {
  let revoked = new Set<string>()
  const watch = watchTopics(store.changes, ['grants'])
  const reload = async () => {
    watch.loading()
    try {
      revoked = new Set(await store.grants.revokedSince(clock.now() - MAX_ACCESS_TOKEN_TTL_MS))
    } catch (error) {
      watch.invalidate()
      throw error
    }
  }
  await reload()
  return {
    has: (grantId: string) => revoked.has(grantId),
    async refresh() {
      if (watch.stale()) await reload()
    },
    close: watch.close,
  }
}

export type RevokedGrants = Awaited<ReturnType<typeof loadRevokedGrants>>
