/**
 * The 2025 era of /mcp (2025-03-26, 2025-06-18, 2025-11-25; MCP 2025-11-25 transports
 * §Streamable HTTP): sessions opened by `initialize`, named by `Mcp-Session-Id`. Chosen by the
 * endpoint (mcp-endpoint.ts) once per request; each step below throws Refusal (refusal.ts),
 * which the endpoint maps to a response once.
 *
 *   initialize  admit a session (caps, a child), answer from the child's InitializeResult
 *   message     one message in a session: the policy step, then forwarded or answered
 *   batch       a JSON-RPC batch, 2025-03-26 sessions only
 *   get         the session's standalone stream, or a stream resumed with Last-Event-ID
 *   del         the client ends its session
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {declaredCapabilities} from '../caller.js'
import {Exchange} from '../exchange.js'
import {ErrorCode, errorResponse, isId, paramsOf, type JsonRpcMessage} from '../json-rpc.js'
import {DEFAULT_VERSION, headerVersion, isSupported, negotiate} from '../protocol-version.js'
import {invalidRequest, Refusal, versionRefusal} from '../refusal.js'
import {Session} from '../session.js'
import {DEFAULT_MAX_UNSENT_BYTES, DEFAULT_SSE_KEEPALIVE_MS} from '../sse.js'
import type {Principal} from '../../principal/principal.js'
import type {EndpointDeps} from '../mcp-endpoint.js'
import {createSessionSteps, sessionHeader} from './session-steps.js'
import {resumeOrListen} from './session-stream.js'

export type SessionEraDeps = Omit<EndpointDeps, 'checkBearer' | 'admit' | 'modern'>

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v)

function reply(res: ServerResponse, status: number, body: string | undefined, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end()
  res.writeHead(status, body === undefined ? headers : {'content-type': 'application/json', ...headers})
  res.end(body)
}

/** The 2025 era's steps (see the file comment); each throws Refusal, answered by the endpoint. */
export function createSessionEra(deps: SessionEraDeps) {
  const {sessions, logger, clock, limits} = deps
  const steps = createSessionSteps(deps)

  /** One message (not initialize) in a session. */
  function message(req: IncomingMessage, res: ServerResponse, principal: Principal, msg: JsonRpcMessage, version: string | undefined): void {
    // transports §Protocol Version Header: an unsupported version is a 400.
    if (version !== undefined && !isSupported(version)) throw versionRefusal(isId(msg.id) ? msg.id : null, version)
    const session = steps.lookup(req, principal)
    const started = clock.now()
    const step = steps.admit(principal, session, msg, started)
    if (step.kind === 'request' || step.kind === 'answer') {
      const exchange = new Exchange(res, session, 1, false, steps.exchangePolicy(principal, [step]))
      steps.audit(res, principal, session, step, exchange, started)
      if (step.kind === 'answer') exchange.final(step.response)
      else session.host.forwardRequest(session, step.msg, exchange)
      return
    }
    steps.forwardOther(session, step)
    // transports §Sending Messages, 4: notifications and responses get 202 with no body.
    reply(res, 202, undefined)
  }

  /**
   * A JSON-RPC batch: only in a session that negotiated 2025-03-26 (batching was removed in
   * 2025-06-18). Every member goes through the same policy step as a single message; one refused
   * member refuses the batch (nothing of it is forwarded), a member with invalid params is
   * answered in the batch's stream, and list responses are filtered as for a single request.
   */
  function batch(req: IncomingMessage, res: ServerResponse, principal: Principal, members: unknown[], version: string | undefined): void {
    const unsupported = 'Invalid Request: batches are not supported in this protocol version'
    if ((version ?? DEFAULT_VERSION) !== '2025-03-26') throw invalidRequest(unsupported)
    if (members.length === 0) throw invalidRequest('Invalid Request: empty batch')
    const msgs = members as JsonRpcMessage[]
    // 2025-03-26 lifecycle: initialize MUST NOT be part of a batch.
    if (msgs.some((m) => !isObject(m) || m.jsonrpc !== '2.0' || m.method === 'initialize' || (m.params !== undefined && !isObject(m.params)))) throw invalidRequest('Invalid Request: bad batch')
    const session = steps.lookup(req, principal)
    if (session.protocolVersion !== '2025-03-26') throw invalidRequest(unsupported)
    const started = clock.now()
    const admitted = msgs.map((m) => steps.admit(principal, session, m, started))
    const ids = new Set<string>()
    for (const s of admitted) {
      if (s.kind !== 'request' && s.kind !== 'answer') continue
      const key = JSON.stringify(s.id)
      if (ids.has(key)) throw invalidRequest('Invalid Request: two requests of the batch have the same id')
      ids.add(key)
    }
    const requests = admitted.filter((s) => s.kind === 'request' || s.kind === 'answer')
    const exchange = requests.length > 0 ? new Exchange(res, session, requests.length, true, steps.exchangePolicy(principal, admitted)) : undefined
    for (const s of admitted) {
      if (s.kind === 'request') {
        steps.audit(res, principal, session, s, exchange!, started)
        session.host.forwardRequest(session, s.msg, exchange!)
      } else if (s.kind === 'answer') {
        steps.audit(res, principal, session, s, exchange!, started)
        exchange!.final(s.response)
      } else steps.forwardOther(session, s)
    }
    if (!exchange) reply(res, 202, undefined)
  }

  /** initialize (lifecycle §Initialization): a new session on the principal's child, its id in Mcp-Session-Id. */
  async function initialize(req: IncomingMessage, res: ServerResponse, principal: Principal, msg: JsonRpcMessage): Promise<void> {
    if (!isId(msg.id)) throw invalidRequest('Invalid Request: initialize needs an id')
    if (sessionHeader(req) !== undefined) throw invalidRequest('Invalid Request: initialize must not carry a session id')
    const params = paramsOf(msg) ?? {}
    const capabilities = declaredCapabilities(typeof params.capabilities === 'object' && params.capabilities !== null ? params.capabilities : {})
    // Session and child caps (admission.ts): a place is held from here until the session exists.
    const admitted = await deps.startSession(principal)
    if (!admitted.ok) throw new Refusal(admitted.status, ErrorCode.InternalError, admitted.message, admitted.headers)
    const {mux} = admitted
    let init: Record<string, unknown>
    try {
      init = await mux.ready
    } catch (error) {
      admitted.release()
      const reason = error instanceof Error ? error.message : String(error)
      logger.warn('session refused: the MCP server is not available', {client_id: principal.clientId, reason})
      return reply(res, 200, errorResponse(msg.id, ErrorCode.InternalError, `MCP server unavailable: ${reason}`))
    }
    if (mux.dead) {
      admitted.release()
      return reply(res, 200, errorResponse(msg.id, ErrorCode.InternalError, 'MCP server unavailable: it exited'))
    }
    const protocolVersion = negotiate(params.protocolVersion)
    const buffers = {
      replayBufferEvents: limits.replayBufferEvents,
      maxUnsentBytes: limits.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES,
      onCut: (stream: number, unsent: number) =>
        logger.warn('SSE connection cut: the client is not reading (it can resume with Last-Event-ID)', {client_id: principal.clientId, stream, unsent_bytes: unsent}),
      keepAliveMs: limits.sseKeepAliveMs ?? DEFAULT_SSE_KEEPALIVE_MS,
    }
    const session = new Session(principal, protocolVersion, capabilities, mux, buffers, clock.now(), admitted.id)
    mux.attach(session)
    admitted.commit(session)
    logger.info('session started', {client_id: principal.clientId, session: session.tag, protocol: protocolVersion})
    reply(res, 200, JSON.stringify({jsonrpc: '2.0', id: msg.id, result: {...init, protocolVersion}}), {'mcp-session-id': session.id})
  }

  /** GET: the standalone stream (transports §Listening for Messages), or a resumed one (§Resumability). */
  function get(req: IncomingMessage, res: ServerResponse, principal: Principal): void {
    const accept = req.headers.accept
    if (accept === undefined || !(accept.includes('text/event-stream') || accept.includes('*/*'))) {
      throw invalidRequest('Not Acceptable: Accept must include text/event-stream', 406)
    }
    const version = headerVersion(req)
    if (version !== undefined && !isSupported(version)) throw versionRefusal(null, version)
    resumeOrListen(req, res, principal, steps.lookup(req, principal), deps.resourceMetadataUrl)
  }

  /** DELETE: the client ends its session (transports §Session Management, 5). */
  function del(req: IncomingMessage, res: ServerResponse, principal: Principal): void {
    const session = steps.lookup(req, principal)
    sessions.end(session)
    logger.info('session ended by the client', {client_id: principal.clientId, session: session.tag})
    reply(res, 200, undefined)
  }

  return {message, batch, initialize, get, del}
}
