/**
 * The steps a 2025 session's messages share (session-era.ts): finding the session the request
 * names, the policy step with its audit of refusals, what the exchange needs of the policy, and
 * the audit event of each request. Each throws Refusal (refusal.ts) to stop.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Principal} from '../../principal/principal.js'
import type {Exchange, ExchangePolicy} from '../exchange.js'
import type {JsonRpcMessage} from '../json-rpc.js'
import {admitMessage, type Admitted} from '../policy-step.js'
import {invalidRequest, Refusal} from '../refusal.js'
import type {Session} from '../session.js'
import type {SessionEraDeps} from './session-era.js'

/** The Mcp-Session-Id header (its first value), or undefined. */
export function sessionHeader(req: IncomingMessage): string | undefined {
  const v = req.headers['mcp-session-id']
  return Array.isArray(v) ? v[0] : v
}

/** The shared steps of the 2025 era, over its dependencies (sessions, policy, audit, clock). */
export function createSessionSteps(deps: SessionEraDeps) {
  const {sessions, clock} = deps

  /**
   * The session the request names, touched (last activity, latest principal). Throws Refusal:
   * 400 without a session id (transports §Session Management, 2), 404 for one that is unknown,
   * expired, ended, another client's or another person's (§Session Management, 3).
   */
  function lookup(req: IncomingMessage, principal: Principal): Session {
    const id = sessionHeader(req)
    if (id === undefined) throw invalidRequest('Bad Request: Mcp-Session-Id header is required')
    // Also another person's (issue 17): one client id (a metadata document) may serve many people,
    // and a handle is bound to the user the verified token names (MCP 2026-07-28 security best
    // practices: "reject a handle presented by any other principal"; 2025-11-25 §Session Hijacking).
    const found = sessions.find(id, principal.clientId)
    if (found === undefined || found.current.subject !== principal.subject) throw invalidRequest('Session not found', 404)
    found.lastActivity = clock.now()
    // Revocation is judged on the latest token the session was used with (revocation-watch.ts).
    found.current = principal
    return found
  }

  /** The policy step (policy-step.ts) for one message; a request it forbids is audited, then the Refusal goes on. */
  function admit(principal: Principal, session: Session, msg: JsonRpcMessage, started: number): Admitted {
    try {
      return admitMessage(msg, {principal, guard: deps.scopes, resourceMetadataUrl: deps.resourceMetadataUrl})
    } catch (error) {
      if (error instanceof Refusal && error.forbidden) {
        deps.onRequest?.({principal, sessionId: session.id, method: error.forbidden.method, name: error.forbidden.name, outcome: 'forbidden', durationMs: clock.now() - started})
      }
      throw error
    }
  }

  /** What the exchange needs of the policy: the filters of its requests' responses, and the token's scopes. */
  function exchangePolicy(principal: Principal, steps: Admitted[]): ExchangePolicy | undefined {
    if (!deps.scopes) return undefined
    const filters = new Map<string, (response: JsonRpcMessage) => void>()
    for (const s of steps) if (s.kind === 'request' && s.filter) filters.set(JSON.stringify(s.id), s.filter)
    return {scopes: principal.scopes, filters}
  }

  /** One audit event per request when its answer is complete (the response closes). */
  function audit(res: ServerResponse, principal: Principal, session: Session, step: Admitted & {kind: 'request' | 'answer'}, exchange: Exchange, started: number): void {
    if (!deps.onRequest) return
    const report = deps.onRequest
    res.once('close', () =>
      report({principal, sessionId: session.id, method: step.method, name: step.target?.name ?? null, outcome: exchange.failed ? 'error' : 'ok', durationMs: clock.now() - started}),
    )
  }

  /** A notification or a response from the session's client, on to its child. */
  function forwardOther(session: Session, step: Admitted): void {
    if (step.kind === 'notification') session.host.forwardNotification(session, step.msg)
    else if (step.kind === 'response') session.host.forwardResponse(session, step.msg)
  }

  return {lookup, admit, exchangePolicy, audit, forwardOther}
}
