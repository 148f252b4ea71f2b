/**
 * Request ids across the gateway. Every request a session sends to a child gets a fresh numeric
 * id, unique on that child, and its progress token (if any) is replaced by the same number; the
 * child's responses and progress notifications are mapped back through this table to the
 * session and the id/token the client used (DESIGN.md, notes on client mode).
 */
import type {Exchange} from './exchange.js'
import type {JsonRpcMessage} from './json-rpc.js'
import type {Caller} from './caller.js'
import type {InputRelay} from './input-relay.js'

export interface Pending {
  readonly gid: number
  readonly method: string
  /** The caller that sent it (a session or a 2026 request); undefined for the gateway's own requests (initialize). */
  caller: Caller | undefined
  /** The client's id, JSON-encoded, ready to splice into the response line (a 2026 retry rebinds it). */
  idJson: string
  /** The client's progress token, when it asked for progress. */
  progressToken: unknown
  exchange: Exchange | undefined
  deadline: number
  /** Waiting for a 2026 caller's retry with inputResponses (modern/input-required.ts); the child asked something. */
  parked?: boolean
  /** A 2025 session's request to a 2026-07-28 child: the message as sent, for a retry with inputResponses (input-relay.ts). */
  sent?: JsonRpcMessage
  /** Its questions being answered by the session (input-relay.ts); set while parked for them. */
  relay?: InputRelay
  /** Retries with inputResponses so far. */
  relayRound?: number
  /** For the gateway's own requests. */
  onResponse?: (message: JsonRpcMessage) => void
}

export class IdMap {
  private next = 1
  private readonly pending = new Map<number, Pending>()
  /**
   * The id of the gateway's `server/discover` probe once it timed out: a legacy child may answer
   * it late (or never), which is expected, not a fault (2026-07-28 transports-stdio §Backward
   * Compatibility).
   */
  expiredProbe: number | undefined

  allocate(): number {
    const id = this.next++
    if (this.next > Number.MAX_SAFE_INTEGER) this.next = 1
    return id
  }

  add(p: Pending): void {
    this.pending.set(p.gid, p)
  }

  get(gid: number): Pending | undefined {
    return this.pending.get(gid)
  }

  /** Removes and returns the entry. */
  take(gid: number): Pending | undefined {
    const p = this.pending.get(gid)
    if (p) this.pending.delete(gid)
    return p
  }

  get size(): number {
    return this.pending.size
  }

  values(): IterableIterator<Pending> {
    return this.pending.values()
  }

  /** Removes and returns every entry. */
  drain(): Pending[] {
    const all = [...this.pending.values()]
    this.pending.clear()
    return all
  }
}
