import type {ChangeFeed, ChangeTopic} from './changes.js'
import type {Store} from './types.js'

/** Outcomes of redemption and rotation that wrote nothing a cache holds. */
const QUIET = new Set<string>(['redeemed', 'rotated', 'unknown', 'expired', 'wrong_client', 'grant_revoked'])

/** The repositories of a store, before its own writes are announced. */
export type Repositories = Omit<Store, 'changes' | 'close' | 'describe' | 'ping'>

/**
 * Wraps every writing method of a backend's repositories so that, once it has committed, the
 * store's change feed hears of it: the caches of this process learn of its own writes without
 * any call site remembering to tell them. Backend-neutral; each backend calls it once.
 */
export function announceWrites(repos: Repositories, feed: ChangeFeed): Repositories {
  const after =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>, topics: (result: R) => readonly ChangeTopic[]) =>
    async (...args: A): Promise<R> => {
      const result = await fn(...args)
      for (const topic of topics(result)) feed.emit(topic)
      return result
    }
  const always = (...topics: ChangeTopic[]) => () => topics
  const {clients, signingKeys, tokens, grants, consents, owner, users, registeredClients, secrets, budgets} = repos
  return {
    audit: repos.audit,
    browserSessions: repos.browserSessions,
    nodes: repos.nodes,
    budgets: {
      ...budgets,
      update: (keys, decide) => {
        let wrote = false
        return after(budgets.update.bind(budgets), () => (wrote ? ['budgets'] : []))(keys, (levels) => {
          const decision = decide(levels)
          wrote = decision.writes.size > 0
          return decision
        })
      },
      prune: after(budgets.prune.bind(budgets), (n) => (n > 0 ? ['budgets'] : [])),
    },
    clients: {
      ...clients,
      insert: after(clients.insert.bind(clients), always('clients')),
      revoke: after(clients.revoke.bind(clients), (done) => (done ? ['clients'] : [])),
    },
    signingKeys: {
      ...signingKeys,
      rotate: after(signingKeys.rotate.bind(signingKeys), always('signingKeys')),
      prune: after(signingKeys.prune.bind(signingKeys), (gone) => (gone.length > 0 ? ['signingKeys'] : [])),
    },
    tokens: {
      ...tokens,
      revokeAccessToken: after(tokens.revokeAccessToken.bind(tokens), always('revokedTokens')),
      pruneExpired: after(tokens.pruneExpired.bind(tokens), (n) => (n > 0 ? ['revokedTokens'] : [])),
    },
    grants: {
      ...grants,
      // Redemption revokes a grant when a code is replayed; a success or refusal changes none.
      redeemCode: after(grants.redeemCode.bind(grants), (r) => (QUIET.has(r.outcome) ? [] : ['grants'])),
      // A refresh exchange that revoked a family (a replayed or branched token) changes grants;
      // a rotation, a retry within the grace and a refusal change none that a cache holds.
      exchangeRefreshToken: (hash, now, decide) => {
        let revoked = false
        return after(grants.exchangeRefreshToken.bind(grants), () => (revoked ? ['grants'] : []))(hash, now, (view) => {
          const decision = decide(view)
          revoked = decision.writes.some((w) => w.op === 'revoke_grant')
          return decision
        })
      },
      revoke: after(grants.revoke.bind(grants), (done) => (done ? ['grants'] : [])),
      revokeForClient: after(grants.revokeForClient.bind(grants), (n) => (n > 0 ? ['grants'] : [])),
      prune: after(grants.prune.bind(grants), (n) => (n > 0 ? ['grants'] : [])),
    },
    consents: {
      ...consents,
      remember: after(consents.remember.bind(consents), always('consents')),
      // What a consent revocation wrote decides what it announces (its rule lives in src/owner/).
      revokeWith: (clientId, decide) => {
        const topics = new Set<ChangeTopic>()
        return after(consents.revokeWith.bind(consents), () => [...topics])(clientId, (view) => {
          const decision = decide(view)
          for (const w of decision.writes) topics.add(w.op === 'revoke_consent' ? 'consents' : 'grants')
          return decision
        })
      },
    },
    owner: {
      ...owner,
      setPasswordHash: after(owner.setPasswordHash.bind(owner), always('owner', 'users')),
    },
    users: {
      ...users,
      insert: after(users.insert.bind(users), always('users')),
      setPasswordHash: after(users.setPasswordHash.bind(users), (done) => (done ? ['users', 'owner'] : [])),
      // Disabling or removing a user revokes their consents and grants in the same transaction.
      disable: after(users.disable.bind(users), (r) => (r ? ['users', 'consents', 'grants'] : [])),
      remove: after(users.remove.bind(users), (r) => (r ? ['users', 'consents', 'grants'] : [])),
      enable: after(users.enable.bind(users), (done) => (done ? ['users'] : [])),
      linkIdentity: after(users.linkIdentity.bind(users), always('users')),
      insertWithIdentity: after(users.insertWithIdentity.bind(users), always('users')),
    },
    registeredClients: {
      ...registeredClients,
      upsertMetadataDocumentClient: after(registeredClients.upsertMetadataDocumentClient.bind(registeredClients), always('clients')),
      expireUnused: after(registeredClients.expireUnused.bind(registeredClients), (ids) => (ids.length > 0 ? ['clients'] : [])),
    },
    secrets: {
      ...secrets,
      set: after(secrets.set.bind(secrets), always('secrets')),
      delete: after(secrets.delete.bind(secrets), always('secrets')),
    },
  }
}
