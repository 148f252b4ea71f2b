/**
 * JSON-RPC id rewriting between callers and one child (DESIGN.md, notes on client mode). Every
 * caller's request gets a fresh numeric id unique on the child (id-map.ts), and its progress
 * token the same number; responses, progress and cancellations are mapped back. Server-to-client
 * requests get ids unique among the child's sessions (`ServerRequestIds`), mapped back when the
 * session answers. A message that maps to nothing live is the caller's to drop: these functions
 * only say so (undefined), they never guess.
 *
 * Each function rewrites `msg` in place (the line is re-serialized once, by the caller).
 */
import type {Caller} from './caller.js'
import {CLIENT_INFO} from './child-link.js'
import {legacyEnvelope, type ChildEra} from './child-era.js'
import type {IdMap, Pending} from './id-map.js'
import {isId, metaOf, paramsOf, type JsonRpcMessage} from './json-rpc.js'
import type {Session} from './session.js'

/** The 2026 per-request _meta keys (basic-index §_meta): a 2025 child has no use for them. */
const MODERN_META_KEYS = ['io.modelcontextprotocol/protocolVersion', 'io.modelcontextprotocol/clientInfo', 'io.modelcontextprotocol/clientCapabilities', 'io.modelcontextprotocol/logLevel']

/**
 * A caller's request, rewritten for the child under id `gid`: its progress token (if any) becomes
 * `gid`; a 2026 caller's request always carries `gid` as its token (so whatever the child relates
 * to it, progress, log or a question, is attributed exactly however many callers share the
 * child); a 2025 session's request to a 2026-07-28 child gets the session's envelope
 * (child-era.ts legacyEnvelope), and a 2026 request to a 2025 child loses its envelope.
 * Returns the caller's own progress token (undefined when it asked for none).
 */
export function requestToChild(msg: JsonRpcMessage, gid: number, caller: Caller, childEra: ChildEra): unknown {
  if (childEra === 'modern' && caller.era === 'legacy') {
    const params = paramsOf(msg) ?? ((msg.params = {}) as Record<string, unknown>)
    params._meta = {...metaOf(msg), ...legacyEnvelope(caller, CLIENT_INFO)}
  }
  let progressToken: unknown
  let meta = metaOf(msg)
  if (meta !== undefined && meta.progressToken !== undefined) {
    progressToken = meta.progressToken
    meta.progressToken = gid
  } else if (caller.era === 'modern') {
    meta = (msg.params as Record<string, unknown>)._meta = {...meta, progressToken: gid}
  }
  if (caller.era === 'modern' && meta !== undefined && childEra === 'legacy') for (const k of MODERN_META_KEYS) delete meta[k]
  msg.id = gid
  return progressToken
}

/** The child's response to `p`, under the id its caller used. */
export function responseToCaller(msg: JsonRpcMessage, p: Pending): void {
  msg.id = JSON.parse(p.idJson) as unknown
}

/**
 * The child's progress notification, with the caller's own token: the request it reports on
 * (taken from `ids` by the gateway's token), or undefined when that request is gone, asked for no
 * progress, or its caller can no longer be reached.
 */
export function progressToCaller(msg: JsonRpcMessage, ids: IdMap): Pending | undefined {
  const params = paramsOf(msg)
  const token = params?.progressToken
  const p = typeof token === 'number' ? ids.get(token) : undefined
  if (!p?.caller || p.progressToken === undefined || !p.exchange?.reachable) return undefined
  params!.progressToken = p.progressToken
  return p
}

/**
 * A session's `notifications/cancelled`, for the child: only a request this session has in
 * flight may be cancelled (MCP 2025-11-25 utilities-cancellation §Behavior Requirements), never
 * initialize. Returns the cancelled request (removed from `ids` and the session), with
 * `requestId` rewritten to its id at the child; undefined when there is nothing to cancel.
 */
export function cancellationToChild(msg: JsonRpcMessage, session: Session, ids: IdMap): Pending | undefined {
  const params = paramsOf(msg)
  if (!params || !isId(params.requestId)) return undefined
  const p = session.inflight.get(JSON.stringify(params.requestId))
  if (!p || p.method === 'initialize') return undefined
  ids.take(p.gid)
  session.inflight.delete(p.idJson)
  params.requestId = p.gid
  return p
}

/**
 * The child cancels one of its own server-to-client requests: the session that was sent it,
 * with `requestId` rewritten to the id that session saw (and the request forgotten there).
 */
export function cancellationToSession(msg: JsonRpcMessage, sessions: Iterable<Session>): Session | undefined {
  const params = paramsOf(msg)
  const childId = params?.requestId
  for (const s of sessions) {
    for (const [sid, cid] of s.serverRequests) {
      if (cid !== childId) continue
      s.serverRequests.delete(sid)
      params!.requestId = sid
      return s
    }
  }
  return undefined
}

/** Ids of server-to-client requests, unique among one child's sessions. */
export class ServerRequestIds {
  private next = 1

  /**
   * Gives the child's request (or a relayed question, input-relay.ts) an id for `session`;
   * `target` is what the session's answer goes back to.
   */
  issue(session: Session, target: unknown): number {
    const sid = this.next++
    session.serverRequests.set(sid, target)
    return sid
  }
}

/**
 * A session's response to a server-to-client request: what it answers (the child's id, or a
 * relayed question), the entry removed; `msg.id` is left for the caller to set. Undefined when
 * the session was sent no such request.
 */
export function answerTarget(msg: JsonRpcMessage, session: Session): {target: unknown} | undefined {
  if (typeof msg.id !== 'number' || !session.serverRequests.has(msg.id)) return undefined
  const target = session.serverRequests.get(msg.id)
  session.serverRequests.delete(msg.id)
  return {target}
}
