/**
 * Per-session state that a 2025 child sees once for all the sessions multiplexed onto it
 * (DESIGN.md, notes on client mode): the log level (MCP 2025-11-25 server/utilities/logging:
 * the child gets the most verbose level any session asked for; each session is sent only what
 * it asked for, routing.ts) and resource subscriptions (server/resources §Subscriptions: the
 * child is subscribed while any session or listener is; child-subscriptions.ts). `ping` is
 * answered by the gateway (basic/utilities/ping), whose session it is.
 */
import {LOG_LEVELS, logLevelRank} from './caller.js'
import type {ChildEra} from './child-era.js'
import type {ChildSubscriptions} from './child-subscriptions.js'
import type {Exchange} from './exchange.js'
import {ErrorCode, errorLine, paramsOf, type JsonRpcMessage} from './json-rpc.js'
import type {Session} from './session.js'

export interface SessionStateDeps {
  /** What the child speaks: a 2026-07-28 child takes the log level per request (child-era.ts legacyEnvelope). */
  era: ChildEra
  /** Every session on the child, `session` included. */
  sessions: Iterable<Session>
  subscriptions: ChildSubscriptions
}

const ok = (idJson: string) => `{"jsonrpc":"2.0","id":${idJson},"result":{}}`

/**
 * Applies a session's `ping`, `logging/setLevel`, `resources/subscribe` or
 * `resources/unsubscribe` to the session's state. True when answered here (on `exchange`, under
 * the client's id `idJson`); false when `msg` must go on to the child (its `level` then
 * rewritten to the most verbose of all sessions). An unknown log level is answered with -32602.
 */
export function answerSessionState(deps: SessionStateDeps, session: Session, msg: JsonRpcMessage, idJson: string, exchange: Exchange): boolean {
  if (msg.method === 'ping') {
    exchange.final(ok(idJson))
    return true
  }
  const params = paramsOf(msg)
  if (msg.method === 'logging/setLevel') {
    const rank = logLevelRank(params?.level)
    if (rank < 0) {
      exchange.final(errorLine(idJson, ErrorCode.InvalidParams, 'unknown log level'))
      return true
    }
    session.logLevel = rank
    if (deps.era === 'modern') {
      exchange.final(ok(idJson))
      return true
    }
    let min = rank
    for (const s of deps.sessions) min = Math.min(min, s.logLevel)
    params!.level = LOG_LEVELS[min]
    return false
  }
  if (msg.method !== 'resources/subscribe' && msg.method !== 'resources/unsubscribe') return false
  const uri = params?.uri
  if (typeof uri !== 'string') return false
  if (!deps.subscriptions.sessionChange(session, msg.method, uri)) return false
  exchange.final(ok(idJson))
  return true
}
