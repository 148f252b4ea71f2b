import {randomBytes, timingSafeEqual} from 'node:crypto'
import type {Clock} from '../../clock.js'
import type {RandomBytes} from '../../clients/credentials.js'
import type {AuthorizationRequest} from './request.js'

export interface BrowserSession {
  id: string
  /** The CSRF token every form of this session carries (synchronizer token pattern). */
  csrf: string
  /** When the owner logged in with this session; null before. */
  ownerAt: number | null
  expiresAt: number
}

interface Pending {
  sessionId: string
  request: AuthorizationRequest
  expiresAt: number
}

/**
 * Server-side browser sessions and the authorization requests waiting for the owner's answer,
 * in memory (a restart only asks the owner to log in again). A session id is 256 random bits;
 * logging in replaces it (session fixation). Both expire; the maps are bounded.
 */
export function createSessionStore({
  clock,
  random = randomBytes,
  sessionTtlMs = 12 * 3600_000,
  anonymousTtlMs = 30 * 60_000,
  pendingTtlMs = 10 * 60_000,
  maxEntries = 10_000,
}: {clock: Clock; random?: RandomBytes; sessionTtlMs?: number; anonymousTtlMs?: number; pendingTtlMs?: number; maxEntries?: number}) {
  const sessions = new Map<string, BrowserSession>()
  const pending = new Map<string, Pending>()
  const token = () => random(32).toString('base64url')
  const bound = <V>(map: Map<string, V>) => {
    if (map.size >= maxEntries) map.delete(map.keys().next().value!)
  }

  return {
    create(): BrowserSession {
      bound(sessions)
      const s = {id: token(), csrf: token(), ownerAt: null, expiresAt: clock.now() + anonymousTtlMs}
      sessions.set(s.id, s)
      return s
    },
    get(id: string | undefined): BrowserSession | undefined {
      if (!id) return undefined
      const s = sessions.get(id)
      if (s && s.expiresAt <= clock.now()) {
        sessions.delete(id)
        return undefined
      }
      return s
    },
    /** The owner proved the password: a new session id (and CSRF token) carries the login. */
    login(old: BrowserSession): BrowserSession {
      sessions.delete(old.id)
      const s = {id: token(), csrf: token(), ownerAt: clock.now(), expiresAt: clock.now() + sessionTtlMs}
      sessions.set(s.id, s)
      for (const p of pending.values()) if (p.sessionId === old.id) p.sessionId = s.id
      return s
    },
    csrfMatches(session: BrowserSession, presented: string | undefined): boolean {
      if (presented === undefined) return false
      const a = Buffer.from(session.csrf)
      const b = Buffer.from(presented)
      return a.length === b.length && timingSafeEqual(a, b)
    },
    /** Parks a validated request for the owner's decision, bound to the browser session. */
    park(sessionId: string, request: AuthorizationRequest): string {
      bound(pending)
      const id = token()
      pending.set(id, {sessionId, request, expiresAt: clock.now() + pendingTtlMs})
      return id
    },
    /** The parked request, only for the session that parked it. */
    pending(id: string | undefined, sessionId: string): AuthorizationRequest | undefined {
      if (!id) return undefined
      const p = pending.get(id)
      if (!p || p.sessionId !== sessionId) return undefined
      if (p.expiresAt <= clock.now()) {
        pending.delete(id)
        return undefined
      }
      return p.request
    },
    /** Single use: a decided request is gone. */
    settle(id: string): void {
      pending.delete(id)
    },
  }
}

export type SessionStore = ReturnType<typeof createSessionStore>
