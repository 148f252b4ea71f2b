/**
 * Who one child serves now (caller.ts): its 2025 sessions, the 2026 requests in flight on it,
 * and its 2026 `subscriptions/listen` streams; and since when it has served no one, for the
 * idle sweep (gateway.ts). Which caller a request belongs to is kept on the caller itself
 * (`Caller.inflight`, by the client's JSON-encoded id); this set only says who is here.
 */
import type {Clock} from '../clock.js'
import type {Caller} from './caller.js'
import type {ChangeListener} from './change-listener.js'
import type {Pending} from './id-map.js'
import type {Session} from './session.js'

/** The callers of one child and its idleness (see the file comment); `clock` gives idleSince in ms. */
export class ChildCallers {
  readonly sessions = new Set<Session>()
  /** 2026 `subscriptions/listen` streams on this child (modern/listen.ts). */
  readonly listeners = new Set<ChangeListener>()
  /** 2026 callers with a request in flight here (each lives for one POST). */
  readonly modern = new Set<Caller>()
  /** When the last session or listener left (clock ms); undefined while there are some. */
  idleSince: number | undefined
  /** Sessions being started on this child (initialize in progress): it is not idle meanwhile. */
  private claims = 0

  constructor(private readonly clock: Clock) {
    this.idleSince = clock.now()
  }

  /** No session, no listener, and no session being started (requests in flight aside). */
  get empty(): boolean {
    return this.sessions.size === 0 && this.listeners.size === 0 && this.claims === 0
  }

  /**
   * Marks a session as being started on this child, so the idle sweep leaves it alone; the
   * returned function ends the claim (after attach, or when the start failed). Idempotent.
   */
  claim(): () => void {
    this.claims++
    let held = true
    return () => {
      if (!held) return
      held = false
      this.claims--
      if (this.claims === 0 && this.sessions.size === 0) this.idleSince = this.clock.now()
    }
  }

  attach(session: Session): void {
    this.sessions.add(session)
    this.idleSince = undefined
  }

  /** False when the session was not attached. */
  detach(session: Session): boolean {
    if (!this.sessions.delete(session)) return false
    if (this.sessions.size === 0) this.idleSince = this.clock.now()
    return true
  }

  addListener(listener: ChangeListener): void {
    this.listeners.add(listener)
    this.idleSince = undefined
  }

  /** False when the listener was not here. */
  removeListener(listener: ChangeListener): boolean {
    if (!this.listeners.delete(listener)) return false
    if (this.sessions.size === 0 && this.listeners.size === 0) this.idleSince = this.clock.now()
    return true
  }

  /** Request `p` (under the client's id `idJson`) is now in flight for its caller. */
  track(caller: Caller, idJson: string, p: Pending): void {
    caller.inflight.set(idJson, p)
    if (caller.era === 'modern') this.modern.add(caller)
  }

  /** The request no longer belongs to its caller (answered, cancelled or parked). */
  forget(p: Pending): void {
    const caller = p.caller
    if (caller === undefined) return
    if (caller.inflight.get(p.idJson) === p) caller.inflight.delete(p.idJson)
    if (caller.era === 'modern' && caller.inflight.size === 0) this.modern.delete(caller)
  }

  /** Every caller here: sessions first, then 2026 requests in flight. */
  all(): Caller[] {
    return [...this.sessions.values(), ...this.modern.values()]
  }

  /** How many callers are here (sessions and 2026 requests in flight). */
  get size(): number {
    return this.sessions.size + this.modern.size
  }
}
