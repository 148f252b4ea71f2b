/**
 * The session table: sessions by id, each bound to the OAuth client that opened it. A session
 * presented by another client is "not found" (MCP 2025-11-25 transports §Session Management, 3;
 * security_best_practices §Session Hijacking: bind sessions to the user). Idle sessions expire.
 */
import type {Session} from './session.js'

export class SessionTable {
  private readonly byId = new Map<string, Session>()

  constructor(private readonly limits: {maxSessions: number; sessionIdleTimeoutMs: number}) {}

  get size(): number {
    return this.byId.size
  }

  get full(): boolean {
    return this.byId.size >= this.limits.maxSessions
  }

  add(session: Session): void {
    this.byId.set(session.id, session)
  }

  /** The session, if it exists, is live, and belongs to this client. */
  find(id: string, clientId: string): Session | undefined {
    const s = this.byId.get(id)
    return s !== undefined && !s.closed && s.clientId === clientId ? s : undefined
  }

  /** Ends a session: its streams close, its child forgets it, its id answers 404 from now on. */
  end(session: Session): void {
    if (!this.byId.delete(session.id) && session.closed) return
    session.close()
    session.host.detach(session)
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
}
