/**
 * The session table: sessions by id, each bound to the OAuth client that opened it. A session
 * presented by another client is "not found" (MCP 2025-11-25 transports §Session Management, 3;
 * security_best_practices §Session Hijacking: bind sessions to the user). Idle sessions expire.
 *
 * It also holds the session caps: `maxSessions` in all, and a per-client cap so that one client
 * cannot take every session (issue 11, item 13). A place is reserved synchronously when an
 * initialize arrives, before anything is awaited, so that concurrent initializes cannot all pass
 * the check and overshoot the cap; the reservation becomes the session or is released.
 */
import {newSessionId, type Session} from './session.js'

/** A place held for a session being started; exactly one of `commit` or `release` is called. */
export interface SessionReservation {
  readonly clientId: string
  /** The id the session gets: `<node id>.<256 random bits>` when the table has a node id. */
  readonly id: string
  /** The place becomes `session` (added to the table). */
  commit(session: Session): void
  /** The session was not started: the place is free again. Calling it twice is harmless. */
  release(): void
}

/** Why a place was refused: the table is full, or this client has its share. */
export type ReservationRefusal = {refused: 'global'; limit: number} | {refused: 'client'; limit: number}

export class SessionTable {
  private readonly byId = new Map<string, Session>()
  /** Sessions and reservations per client id. */
  private readonly perClient = new Map<string, number>()
  private reserved = 0

  /**
   * `nodeId` names this node in every session id it hands out (several daemons on one store,
   * issue 14): another node that gets the id does not have the session and answers 404 as for any
   * unknown session (MCP 2025-11-25 transports §Session Management, 3-4), and a balancer hashing
   * Mcp-Session-Id keeps a session on its node.
   */
  constructor(private readonly limits: {maxSessions: number; sessionIdleTimeoutMs: number; nodeId?: string | undefined}) {}

  /** Live sessions (not counting places reserved for sessions being started). */
  get size(): number {
    return this.byId.size
  }

  /** True when no further session (started or being started) fits under maxSessions. */
  get full(): boolean {
    return this.byId.size + this.reserved >= this.limits.maxSessions
  }

  /** Sessions of this client, plus its sessions being started. */
  countFor(clientId: string): number {
    return this.perClient.get(clientId) ?? 0
  }

  /**
   * Holds a place for a new session of `clientId`, or says which cap refuses it: `maxSessions`
   * in all, or `perClientLimit` sessions of one client (both count sessions being started).
   */
  reserve(clientId: string, perClientLimit: number): SessionReservation | ReservationRefusal {
    if (this.full) return {refused: 'global', limit: this.limits.maxSessions}
    if (this.countFor(clientId) >= perClientLimit) return {refused: 'client', limit: perClientLimit}
    this.reserved++
    this.bump(clientId, 1)
    let open = true
    const settle = (): boolean => {
      if (!open) return false
      open = false
      this.reserved--
      return true
    }
    return {
      clientId,
      id: this.limits.nodeId ? `${this.limits.nodeId}.${newSessionId()}` : newSessionId(),
      commit: (session) => {
        if (!settle()) throw new Error('a session reservation was used twice')
        this.byId.set(session.id, session)
      },
      release: () => {
        if (settle()) this.bump(clientId, -1)
      },
    }
  }

  /** The session, if it exists, is live, and belongs to this client. */
  find(id: string, clientId: string): Session | undefined {
    const s = this.byId.get(id)
    return s !== undefined && !s.closed && s.clientId === clientId ? s : undefined
  }

  /** Ends a session: its streams close, its child forgets it, its id answers 404 from now on. */
  end(session: Session): void {
    const known = this.byId.delete(session.id)
    if (known) this.bump(session.clientId, -1)
    if (!known && session.closed) return
    // Its child answers what is in flight first (on the POSTs' streams), then every stream ends.
    session.host.detach(session)
    session.close()
  }

  /** Sessions idle (no request, nothing in flight) for sessionIdleTimeoutMs. */
  idle(now: number): Session[] {
    const out: Session[] = []
    for (const s of this.byId.values()) {
      if (s.inflight.size === 0 && now - s.lastActivity >= this.limits.sessionIdleTimeoutMs) out.push(s)
    }
    return out
  }

  all(): Session[] {
    return [...this.byId.values()]
  }

  private bump(clientId: string, by: number): void {
    const n = (this.perClient.get(clientId) ?? 0) + by
    if (n <= 0) this.perClient.delete(clientId)
    else this.perClient.set(clientId, n)
  }
}
