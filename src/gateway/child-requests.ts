/**
 * Callers' requests in flight on one child: sent (ids rewritten, id-rewrite.ts), cancelled,
 * parked while a 2026 caller is asked for input (modern/input-required.ts) and resumed, ended
 * with their session, and timed out. Answers come back through the router (child-routing.ts).
 */
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {Caller} from './caller.js'
import type {ChildCallers} from './child-callers.js'
import type {ChildLink} from './child-link.js'
import type {ChildRouter} from './child-routing.js'
import type {Exchange} from './exchange.js'
import type {IdMap, Pending} from './id-map.js'
import {requestToChild} from './id-rewrite.js'
import {ErrorCode, errorLine, type JsonRpcMessage} from './json-rpc.js'
import type {Session} from './session.js'

export interface ChildRequestsDeps {
  tag: string
  logger: Logger
  clock: Clock
  /** How long (ms) a request may wait for the child's answer before it is answered with -32001. */
  requestTimeoutMs: number
  ids: IdMap
  link: ChildLink
  callers: ChildCallers
  router: ChildRouter
}

/** The requests in flight on one child (see the file comment); deadlines in clock ms. */
export class ChildRequests {
  constructor(private readonly deps: ChildRequestsDeps) {}

  /** Sends a caller's request to the child; its answer (or the gateway's error) goes to `exchange`. */
  send(caller: Caller, msg: JsonRpcMessage, idJson: string, exchange: Exchange): void {
    const {ids, link, callers, clock} = this.deps
    const gid = ids.allocate()
    const progressToken = requestToChild(msg, gid, caller, link.era)
    const p: Pending = {
      gid,
      method: msg.method as string,
      caller,
      idJson,
      progressToken,
      exchange,
      deadline: clock.now() + this.deps.requestTimeoutMs,
      // A 2025 session's request to a 2026-07-28 child is kept for a retry with inputResponses (session-input.ts).
      ...(link.era === 'modern' && caller.era === 'legacy' ? {sent: msg} : {}),
    }
    ids.add(p)
    callers.track(caller, idJson, p)
    if (link.dead || !link.send(JSON.stringify(msg))) {
      ids.take(gid)
      this.deps.router.respond(p, errorLine(idJson, ErrorCode.ConnectionClosed, 'the MCP server is not running'))
    }
  }

  /**
   * A 2026 caller closed its response stream: that cancels the request (2026-07-28
   * basic-patterns-cancellation; transports-streamable-http §Cancellation), so the child gets
   * `notifications/cancelled` for it and nothing more is sent for it.
   */
  cancel(caller: Caller, idJson: string, reason: string): void {
    const p = caller.inflight.get(idJson)
    if (p === undefined) return
    this.deps.callers.forget(p)
    if (this.deps.ids.take(p.gid)) this.deps.link.cancel(p.gid, reason)
  }

  /**
   * The session has ended: its requests are cancelled at the child and their POSTs answered now
   * (not at the request timeout), its unanswered server-to-client requests refused to the child.
   */
  endSession(session: Session, isRelayed: (target: unknown) => boolean): void {
    const {ids, link} = this.deps
    for (const p of session.inflight.values()) {
      if (ids.take(p.gid)) link.cancel(p.gid, 'session ended')
      if (p.exchange?.reachable) p.exchange.final(errorLine(p.idJson, ErrorCode.ConnectionClosed, 'the session ended'))
    }
    session.inflight.clear()
    for (const childId of session.serverRequests.values()) {
      if (isRelayed(childId)) continue
      link.replyError(childId, ErrorCode.ConnectionClosed, 'the session ended before the client answered')
    }
    session.serverRequests.clear()
  }

  /** The child's request `p` now waits for a 2026 caller's retry until `until` (clock ms): it belongs to no caller meanwhile. */
  park(p: Pending, until: number): void {
    this.deps.callers.forget(p)
    p.parked = true
    p.exchange = undefined
    p.deadline = until
  }

  /**
   * A 2026 retry resumes parked request `gid`: the child gets the caller's answer to its own
   * request `childId`, and the final result goes to the retry's exchange under the retry's id.
   * False when the request is gone (it ended, timed out, or the child exited).
   */
  resume(gid: number, caller: Caller, idJson: string, exchange: Exchange, childId: unknown, answer: unknown): boolean {
    const {ids, link} = this.deps
    const p = ids.get(gid)
    if (p === undefined || !p.parked || link.dead) return false
    p.parked = false
    p.caller = caller
    p.idJson = idJson
    p.exchange = exchange
    p.deadline = this.deps.clock.now() + this.deps.requestTimeoutMs
    this.deps.callers.track(caller, idJson, p)
    link.send(JSON.stringify({jsonrpc: '2.0', id: childId, result: answer}))
    return true
  }

  /** Ends a parked request that will not be resumed: the child's question gets an error, the request a cancellation. */
  abandon(gid: number, childId: unknown, reason: string): void {
    const p = this.deps.ids.get(gid)
    if (p === undefined || !p.parked) return
    this.deps.ids.take(gid)
    this.deps.link.replyError(childId, ErrorCode.ConnectionClosed, reason)
    this.deps.link.cancel(gid, reason)
  }

  /** Times out requests whose deadline (clock ms) is at or before `now`: a JSON-RPC error, and a cancellation to the child. */
  sweep(now: number): void {
    const {ids, link, logger, tag} = this.deps
    let expired: Pending[] | undefined
    for (const p of ids.values()) if (p.deadline <= now) (expired ??= []).push(p)
    if (!expired) return
    for (const p of expired) {
      ids.take(p.gid)
      if (p.method === 'server/discover' && p.caller === undefined) {
        // Silence on the probe is one of the spec's answers for a 2025 server (transports-stdio
        // §Backward Compatibility), not a fault of the child's.
        ids.expiredProbe = p.gid
        logger.info('the MCP server did not answer server/discover in time: spoken to as a 2025 server', {child: tag})
      } else logger.warn('request to the MCP server timed out', {child: tag, method: p.method})
      if (!p.onResponse) link.cancel(p.gid, 'timed out')
      this.deps.router.fail(p, ErrorCode.RequestTimeout, `the MCP server did not answer within ${this.deps.requestTimeoutMs} ms`)
    }
  }

  /** The child has exited: every pending request gets its error at once (not at its timeout). */
  failAll(reason: string): void {
    for (const p of this.deps.ids.drain()) this.deps.router.fail(p, ErrorCode.ConnectionClosed, reason)
  }
}
