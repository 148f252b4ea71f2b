import {randomBytes, timingSafeEqual} from 'node:crypto'
import type {Clock} from '../../clock.js'
import type {RandomBytes} from '../../clients/credentials.js'
import {addressKey} from '../rate-limit.js'
import type {AuthorizationRequest} from './request.js'

export interface BrowserSession {
  id: string
  /** The CSRF token every form of this session carries (synchronizer token pattern). */
  csrf: string
  /** When the owner logged in with this session; null before. */
  ownerAt: number | null
  /** Who logged in (a user id, issue 17); absent before login. */
  userId?: string
  expiresAt: number
}

interface Pending {
  request: AuthorizationRequest
  expiresAt: number
}

interface Entry {
  session: BrowserSession
  /** The address key (see rate-limit.ts addressKey) an anonymous session was made from. */
  address: string
  /** Requests parked for the owner's decision, oldest first. */
  pending: Map<string, Pending>
}

export interface SessionLimits {
  /** Anonymous (not logged-in) sessions kept at once, in all. */
  maxAnonymous: number
  /** Anonymous sessions kept at once per address (IPv6 by /64). */
  maxAnonymousPerAddress: number
  /** Logged-in sessions kept at once (only the owner's password makes one). */
  maxOwner: number
  /** Requests waiting for a decision per session. */
  maxPendingPerSession: number
}

export const sessionDefaults: SessionLimits = {maxAnonymous: 10_000, maxAnonymousPerAddress: 1_000, maxOwner: 1_000, maxPendingPerSession: 10}

/** Lifetimes of sessions and parked requests, ms. */
export const sessionTtlDefaults = {sessionTtlMs: 12 * 3600_000, anonymousTtlMs: 30 * 60_000, pendingTtlMs: 10 * 60_000}

/**
 * Browser sessions of the consent pages and the requests parked in them: in memory for one node
 * (below), in the store for several (src/oauth/authorize/shared-sessions.ts), one contract.
 */
export interface SessionStore {
  /** A new anonymous session for a browser at `address`. */
  create(address: string): Promise<BrowserSession>
  /** The live session with this id (the cookie value), marked used. */
  get(id: string | undefined): Promise<BrowserSession | undefined>
  /** The owner proved the password: a new session id (and CSRF token) carries the login and the parked requests. */
  login(old: BrowserSession, userId?: string): Promise<BrowserSession>
  csrfMatches(session: BrowserSession, presented: string | undefined): boolean
  /** Parks a validated request for the owner's decision, bound to the browser session; its id. */
  park(sessionId: string, request: AuthorizationRequest): Promise<string>
  /** The parked request, only for the session that parked it. */
  pending(id: string | undefined, sessionId: string): Promise<AuthorizationRequest | undefined>
  /** Single use: removes the parked request; true for the one caller that removed it (racing requests, racing nodes). */
  settle(id: string, sessionId: string): Promise<boolean>
  /** Logs out: the session is gone at once (its id is worth nothing after). */
  end(id: string): Promise<void>
  /** How many sessions are kept (for tests and the status page). */
  size(): Promise<{anonymous: number; owner: number}>
}

/** The CSRF check both stores share: constant time. */
export function csrfMatches(session: BrowserSession, presented: string | undefined): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(session.csrf)
  const b = Buffer.from(presented)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Server-side browser sessions and the authorization requests waiting for the owner's answer,
 * in memory (a restart only asks the owner to log in again): one node's, the SQLite daemon's. A session id is 256 random bits;
 * logging in replaces it (session fixation). Both expire.
 *
 * Bounded without letting anyone log the owner out: every cookie-less GET makes an anonymous
 * session, so anonymous sessions live in a map of their own, bounded in all and per address; a
 * full map drops its least recently used anonymous session (of that address first), never a
 * logged-in one. Logged-in sessions, which only the password makes, are bounded apart. Parked
 * requests belong to their session (bounded per session), so no one else's flood drops them.
 */
export function createSessionStore({
  clock,
  random = randomBytes,
  sessionTtlMs = sessionTtlDefaults.sessionTtlMs,
  anonymousTtlMs = sessionTtlDefaults.anonymousTtlMs,
  pendingTtlMs = sessionTtlDefaults.pendingTtlMs,
  limits = sessionDefaults,
}: {clock: Clock; random?: RandomBytes; sessionTtlMs?: number; anonymousTtlMs?: number; pendingTtlMs?: number; limits?: Partial<SessionLimits>}): SessionStore {
  const max = {...sessionDefaults, ...limits}
  const anonymous = new Map<string, Entry>()
  const byAddress = new Map<string, Set<string>>()
  const owner = new Map<string, Entry>()
  const token = () => random(32).toString('base64url')

  const dropAnonymous = (id: string) => {
    const e = anonymous.get(id)
    if (!e) return
    anonymous.delete(id)
    const ids = byAddress.get(e.address)
    ids?.delete(id)
    if (ids?.size === 0) byAddress.delete(e.address)
  }
  const entry = (id: string | undefined): Entry | undefined => {
    if (!id) return undefined
    const e = owner.get(id) ?? anonymous.get(id)
    if (!e) return undefined
    if (e.session.expiresAt <= clock.now()) {
      if (e.session.ownerAt === null) dropAnonymous(id)
      else owner.delete(id)
      return undefined
    }
    return e
  }
  /** Most recently used last, so that bounding drops the idlest. */
  const touch = (e: Entry) => {
    const map = e.session.ownerAt === null ? anonymous : owner
    map.delete(e.session.id)
    map.set(e.session.id, e)
    if (e.session.ownerAt === null) {
      const ids = byAddress.get(e.address)!
      ids.delete(e.session.id)
      ids.add(e.session.id)
    }
  }

  return {
    /** A new anonymous session for a browser at `address`. */
    async create(address: string): Promise<BrowserSession> {
      for (let i = 0; i < 8; i++) {
        const oldest = anonymous.values().next().value
        if (!oldest || oldest.session.expiresAt > clock.now()) break
        dropAnonymous(oldest.session.id)
      }
      const key = addressKey(address)
      let ids = byAddress.get(key)
      if (ids && ids.size >= max.maxAnonymousPerAddress) dropAnonymous(ids.values().next().value!)
      if (anonymous.size >= max.maxAnonymous) dropAnonymous(anonymous.keys().next().value!)
      const session = {id: token(), csrf: token(), ownerAt: null, expiresAt: clock.now() + anonymousTtlMs}
      anonymous.set(session.id, {session, address: key, pending: new Map()})
      if (!ids) byAddress.set(key, (ids = new Set()))
      ids.add(session.id)
      return session
    },
    async get(id: string | undefined): Promise<BrowserSession | undefined> {
      const e = entry(id)
      if (!e) return undefined
      touch(e)
      return e.session
    },
    /** The owner proved the password: a new session id (and CSRF token) carries the login and the parked requests. */
    async login(old: BrowserSession, userId?: string): Promise<BrowserSession> {
      const before = entry(old.id)
      if (old.ownerAt === null) dropAnonymous(old.id)
      else owner.delete(old.id)
      if (owner.size >= max.maxOwner) owner.delete(owner.keys().next().value!)
      const session: BrowserSession = {id: token(), csrf: token(), ownerAt: clock.now(), ...(userId !== undefined ? {userId} : {}), expiresAt: clock.now() + sessionTtlMs}
      owner.set(session.id, {session, address: '', pending: before?.pending ?? new Map()})
      return session
    },
    csrfMatches,
    /** Parks a validated request for the owner's decision, bound to the browser session. */
    async park(sessionId: string, request: AuthorizationRequest): Promise<string> {
      const e = entry(sessionId)
      if (!e) throw new Error('park: no such session')
      if (e.pending.size >= max.maxPendingPerSession) e.pending.delete(e.pending.keys().next().value!)
      const id = token()
      e.pending.set(id, {request, expiresAt: clock.now() + pendingTtlMs})
      return id
    },
    /** The parked request, only for the session that parked it. */
    async pending(id: string | undefined, sessionId: string): Promise<AuthorizationRequest | undefined> {
      const e = entry(sessionId)
      if (!id || !e) return undefined
      const p = e.pending.get(id)
      if (!p) return undefined
      if (p.expiresAt <= clock.now()) {
        e.pending.delete(id)
        return undefined
      }
      return p.request
    },
    /** Single use: a decided request is gone. */
    async settle(id: string, sessionId: string): Promise<boolean> {
      return entry(sessionId)?.pending.delete(id) ?? false
    },
    /** Logs out: the session is gone at once (its id is worth nothing after). */
    async end(id: string): Promise<void> {
      if (owner.delete(id)) return
      dropAnonymous(id)
    },
    /** How many sessions are kept (for tests and the status page). */
    async size(): Promise<{anonymous: number; owner: number}> {
      return {anonymous: anonymous.size, owner: owner.size}
    },
  }
}

