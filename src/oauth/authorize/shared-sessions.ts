import {createHash, randomBytes} from 'node:crypto'
import type {Clock} from '../../clock.js'
import type {RandomBytes} from '../../clients/credentials.js'
import type {ClientRecord, Store} from '../../store/types.js'
import {addressKey} from '../rate-limit.js'
import type {AuthorizationRequest} from './request.js'
import {csrfMatches, sessionDefaults, sessionTtlDefaults, type BrowserSession, type SessionLimits, type SessionStore} from './sessions.js'

/** What of a parked request is stored: everything but the client, which is looked up again by id. */
interface StoredRequest {
  clientId: string
  redirectUri: string
  redirectUriGiven: boolean
  state: string | null
  scopes: string[]
  resource: string
  codeChallenge: string
}

/** Ids are bearer secrets (the cookie, the form's request id): the store keeps their SHA-256 only. */
const digest = (id: string) => createHash('sha256').update(id).digest('base64url')

/**
 * Browser sessions and parked authorization requests in the store, shared by every node, so an
 * authorization whose consent page one node served is decided on another (a balancer without
 * sticky sessions). The same bounds as the in-memory store (sessions.ts), applied by the store in
 * the writing transaction; settling is the store's single-use delete, so two nodes answering one
 * request cannot both issue a code. A parked request's client is looked up again when it is
 * decided (`findClient`): a client revoked meanwhile finds its request gone.
 */
export function createSharedSessionStore({
  store,
  clock,
  findClient,
  random = randomBytes,
  sessionTtlMs = sessionTtlDefaults.sessionTtlMs,
  anonymousTtlMs = sessionTtlDefaults.anonymousTtlMs,
  pendingTtlMs = sessionTtlDefaults.pendingTtlMs,
  limits = {},
}: {
  store: Store
  clock: Clock
  findClient(id: string): Promise<ClientRecord | undefined>
  random?: RandomBytes
  sessionTtlMs?: number
  anonymousTtlMs?: number
  pendingTtlMs?: number
  limits?: Partial<SessionLimits>
}): SessionStore {
  const max = {...sessionDefaults, ...limits}
  const token = () => random(32).toString('base64url')
  const repo = store.browserSessions

  return {
    async create(address) {
      const now = clock.now()
      const session: BrowserSession = {id: token(), csrf: token(), ownerAt: null, expiresAt: now + anonymousTtlMs}
      await repo.createAnonymous(
        {id: digest(session.id), csrf: session.csrf, ownerAt: null, userId: null, address: addressKey(address), expiresAt: session.expiresAt, usedAt: now},
        {maxAnonymous: max.maxAnonymous, maxPerAddress: max.maxAnonymousPerAddress},
      )
      return session
    },
    async get(id) {
      if (!id || id.length > 128) return undefined
      const r = await repo.use(digest(id), clock.now())
      return r ? {id, csrf: r.csrf, ownerAt: r.ownerAt, ...(r.userId ? {userId: r.userId} : {}), expiresAt: r.expiresAt} : undefined
    },
    async login(old, userId) {
      const now = clock.now()
      const session: BrowserSession = {id: token(), csrf: token(), ownerAt: now, ...(userId !== undefined ? {userId} : {}), expiresAt: now + sessionTtlMs}
      // A session dropped meanwhile (expired, evicted) still logs in; it just carries nothing over.
      const moved = await repo.login(digest(old.id), {id: digest(session.id), csrf: session.csrf, ownerAt: now, userId: userId ?? null, address: '', expiresAt: session.expiresAt, usedAt: now}, max.maxOwner)
      if (!moved) {
        await repo.createAnonymous({id: digest(session.id), csrf: session.csrf, ownerAt: now, userId: userId ?? null, address: '', expiresAt: session.expiresAt, usedAt: now}, {maxAnonymous: Infinity, maxPerAddress: Infinity})
      }
      return session
    },
    csrfMatches,
    async park(sessionId, request) {
      const now = clock.now()
      const id = token()
      const stored: StoredRequest = {
        clientId: request.client.id,
        redirectUri: request.redirectUri,
        redirectUriGiven: request.redirectUriGiven,
        state: request.state ?? null,
        scopes: request.scopes,
        resource: request.resource,
        codeChallenge: request.codeChallenge,
      }
      const parked = await repo.park({id: digest(id), sessionId: digest(sessionId), request: JSON.stringify(stored), createdAt: now, expiresAt: now + pendingTtlMs}, max.maxPendingPerSession)
      if (!parked) throw new Error('park: no such session')
      return id
    },
    async pending(id, sessionId) {
      if (!id || id.length > 128) return undefined
      const p = await repo.pending(digest(id), digest(sessionId), clock.now())
      if (!p) return undefined
      const r = JSON.parse(p.request) as StoredRequest
      const client = await findClient(r.clientId)
      if (!client || client.revokedAt !== null) return undefined
      return {client, redirectUri: r.redirectUri, redirectUriGiven: r.redirectUriGiven, state: r.state ?? undefined, scopes: r.scopes, resource: r.resource, codeChallenge: r.codeChallenge}
    },
    settle: (id, sessionId) => repo.settle(digest(id), digest(sessionId)),
    end: (id) => repo.end(digest(id)),
    size: () => repo.count(clock.now()),
  }
}
