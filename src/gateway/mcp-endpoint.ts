/**
 * The MCP endpoint, Streamable HTTP in two eras on one path (MCP 2026-07-28 versioning
 * §Backward Compatibility: a dual-era server selects its behaviour from how the client opens).
 *
 * Each POST is classified once, after the bearer check and the body: a request that carries a
 * 2026 `_meta` version or a non-2025 MCP-Protocol-Version header and no session id is modern
 * (modern/modern-endpoint.ts: stateless, per-request metadata); anything else is legacy, as of
 * 2025-03-26, 2025-06-18 and 2025-11-25 (MCP 2025-11-25 transports §Streamable HTTP): POST
 * carries one JSON-RPC message (a batch only in a 2025-03-26 session), GET opens the server's
 * stream (or resumes one with Last-Event-ID), DELETE ends the session. Modern steps throw
 * Refusal, mapped to a response once, in handleMcp.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Clock} from '../clock.js'
import {bearerChallenge} from '../http/challenge.js'
import {missingScopes} from '../policy/policy.js'
import type {Logger} from '../log.js'
import type {BearerCheck} from './bearer.js'
import {BodyRefusedError, InvalidUtf8Error, readBodyText, sendRefusal} from '../http/body.js'
import {Exchange, type ExchangePolicy} from './exchange.js'
import {ErrorCode, errorResponse, isId, jsonDepthExceeds, MAX_JSON_DEPTH, paramsOf, type JsonRpcMessage} from './json-rpc.js'
import type {Multiplexer} from './multiplexer.js'
import {headerVersion, isSupported, MODERN_VERSION_META, negotiate, unsupportedVersionBody, DEFAULT_VERSION} from './protocol-version.js'
import type {Principal} from '../principal/principal.js'
import {Session, type ClientCapabilities} from './session.js'
import type {SessionTable} from './sessions.js'
import {DEFAULT_MAX_UNSENT_BYTES, parseEventId} from './sse.js'
import {admitMessage, Refusal, type Admitted} from './policy-step.js'
import {metaOf} from './json-rpc.js'
import type {ScopeGuard} from './scope-guard.js'

/** One MCP request as the audit trail records it. */
export interface McpRequestEvent {
  principal: Principal
  sessionId: string | null
  method: string
  name: string | null
  outcome: 'ok' | 'error' | 'forbidden' | 'rate_limited'
  durationMs: number
}

export interface EndpointDeps {
  checkBearer: BearerCheck
  /** Tool-level scopes; absent: every valid token may use everything. */
  scopes?: ScopeGuard
  /** Opt-in per-client rate limit: seconds to wait before this principal's next request, 0 to go ahead. */
  admit?: (principal: Principal) => Promise<number> | number
  /** Called once per request (not notifications) when its answer is complete. */
  onRequest?: (event: McpRequestEvent) => void
  /** For the `resource_metadata` of the 403 scope challenge. */
  resourceMetadataUrl: string
  sessions: SessionTable
  /**
   * Admits a new session of this principal under the session and child caps, and names the
   * child (multiplexer) it goes to, started if need be; or says why not (gateway.ts).
   */
  startSession(principal: Principal): Promise<SessionStart>
  /** maxJsonDepth: how deep a message's JSON may nest (default MAX_JSON_DEPTH, json-rpc.ts). */
  limits: {maxBodyBytes: number; replayBufferEvents: number; maxUnsentBytes?: number; maxJsonDepth?: number}
  logger: Logger
  clock: Clock
  /** The 2026-07-28 era (modern/modern-endpoint.ts); throws Refusal. */
  modern(req: IncomingMessage, res: ServerResponse, principal: Principal, msg: JsonRpcMessage): Promise<void>
}

/**
 * Whether a POST without a session is of the modern era: its `_meta` names a version, or its
 * MCP-Protocol-Version header is not a 2025 one (2026-07-28 transports-streamable-http §Backward
 * Compatibility: a modern server answers such a request with a modern error, not a fallback).
 */
function isModernMessage(msg: JsonRpcMessage, header: string | undefined): boolean {
  if (msg.method === 'initialize') return false
  if (metaOf(msg)?.[MODERN_VERSION_META] !== undefined) return true
  return header !== undefined && !isSupported(header)
}

/**
 * A session admitted: `commit` once it is attached to `mux`, or `release` if it is not started
 * after all. Or refused: the status (429 over the client's own cap, 503 over a gateway-wide one)
 * with its headers (Retry-After).
 */
export type SessionStart =
  | {ok: true; mux: Multiplexer; id: string; commit(session: Session): void; release(): void}
  | {ok: false; status: 429 | 503; message: string; headers: Record<string, string>}

const JSON_TYPE = {'content-type': 'application/json'}

function reply(res: ServerResponse, status: number, body: string | undefined, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(status, body === undefined ? headers : {...JSON_TYPE, ...headers})
  res.end(body)
}

/** An HTTP error with a JSON-RPC error body that has no id (transports §Sending Messages, 4). */
const fail = (res: ServerResponse, status: number, code: number, message: string, headers?: Record<string, string>) =>
  reply(res, status, errorResponse(null, code, message), headers)

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v)

function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept
  if (accept === undefined) return false
  return accept.includes(type) || accept.includes('*/*')
}

function sessionHeader(req: IncomingMessage): string | undefined {
  const v = req.headers['mcp-session-id']
  return Array.isArray(v) ? v[0] : v
}

export function createMcpEndpoint(deps: EndpointDeps) {
  const {checkBearer, sessions, logger, clock, limits} = deps

  /** Finds the caller's session, or answers 400/404 and returns undefined. */
  function lookup(req: IncomingMessage, res: ServerResponse, principal: Principal): Session | undefined {
    const id = sessionHeader(req)
    if (id === undefined) {
      // transports §Session Management, 2: requests other than initialize need the session id.
      fail(res, 400, ErrorCode.InvalidRequest, 'Bad Request: Mcp-Session-Id header is required')
      return undefined
    }
    // Unknown, expired, ended, or another client's: all "not found" (§Session Management, 3).
    // Also another person's (issue 17): one client id (a metadata document) may serve many people,
    // and a handle is bound to the user the verified token names (MCP 2026-07-28 security best
    // practices: "reject a handle presented by any other principal"; 2025-11-25 §Session Hijacking).
    const found = sessions.find(id, principal.clientId)
    const session = found !== undefined && found.current.subject === principal.subject ? found : undefined
    if (session === undefined) fail(res, 404, ErrorCode.InvalidRequest, 'Session not found')
    else {
      session.lastActivity = clock.now()
      // Revocation is judged on the latest token the session was used with (gateway.ts).
      session.current = principal
    }
    return session
  }

  async function post(req: IncomingMessage, res: ServerResponse, principal: Principal): Promise<void> {
    // transports §Sending Messages, 2: the client lists both types.
    if (!accepts(req, 'application/json') || !accepts(req, 'text/event-stream')) {
      return fail(res, 406, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must include application/json and text/event-stream')
    }
    const type = req.headers['content-type']
    if (type === undefined || !/^application\/json\s*(;|$)/i.test(type)) {
      return fail(res, 415, ErrorCode.InvalidRequest, 'Unsupported Media Type: Content-Type must be application/json')
    }
    const version = headerVersion(req)
    let text: string
    try {
      text = await readBodyText(req, limits.maxBodyBytes)
    } catch (error) {
      if (error instanceof BodyRefusedError) return sendRefusal(res, error, 'application/json', errorResponse(null, error.status === 503 ? ErrorCode.InternalError : ErrorCode.InvalidRequest, error.message))
      if (error instanceof InvalidUtf8Error) return fail(res, 400, ErrorCode.ParseError, error.message)
      throw error
    }
    // Too deep to walk safely (re-serializing, logging): refused before anything walks it (issue 11, item 23).
    const maxDepth = limits.maxJsonDepth ?? MAX_JSON_DEPTH
    if (jsonDepthExceeds(text, maxDepth)) {
      return fail(res, 400, ErrorCode.InvalidRequest, `Invalid Request: JSON nested deeper than ${maxDepth} levels`)
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return fail(res, 400, ErrorCode.ParseError, 'Parse error: the body is not JSON')
    }
    if (Array.isArray(body)) return postBatch(req, res, principal, body as unknown[], version)
    if (typeof body !== 'object' || body === null) return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request')
    const msg = body as JsonRpcMessage
    if (msg.jsonrpc !== '2.0') return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: jsonrpc must be "2.0"')
    // MCP params are always an object (schema: `params?: {...}`). A server drops anything else
    // without an answer (the SDK's stdio transport does), which would leave the request hanging
    // until the request timeout: refuse it here instead (JSON-RPC 2.0 §4.2).
    if (msg.params !== undefined && !isObject(msg.params)) {
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: params must be an object')
    }

    // Classify: a 2026-07-28 (stateless) request goes to the modern era's steps.
    if (sessionHeader(req) === undefined && isModernMessage(msg, version)) return deps.modern(req, res, principal, msg)
    // transports §Protocol Version Header: an unsupported version is a 400. The initialize
    // request itself negotiates in its body (lifecycle §Version Negotiation).
    if (version !== undefined && !isSupported(version) && msg.method !== 'initialize') {
      return reply(res, 400, unsupportedVersionBody(isId(msg.id) ? msg.id : null, version))
    }

    if (msg.method === 'initialize') return initialize(req, res, principal, msg)
    const session = lookup(req, res, principal)
    if (!session) return
    const started = clock.now()
    const step = admit(res, principal, session, msg, started)
    if (step === undefined) return
    if (step.kind === 'request' || step.kind === 'answer') {
      const exchange = new Exchange(res, session, 1, false, exchangePolicy(principal, [step]))
      audit(res, principal, session, step, exchange, started)
      if (step.kind === 'answer') exchange.final(step.response)
      else session.host.forwardRequest(session, step.msg, exchange)
      return
    }
    forwardOther(session, step)
    // transports §Sending Messages, 4: notifications and responses get 202 with no body.
    reply(res, 202, undefined)
  }

  /** The policy step (policy-step.ts) for one message; a refusal is answered (and audited) here. */
  function admit(res: ServerResponse, principal: Principal, session: Session, msg: JsonRpcMessage, started: number): Admitted | undefined {
    try {
      return admitMessage(msg, {principal, guard: deps.scopes, resourceMetadataUrl: deps.resourceMetadataUrl})
    } catch (error) {
      if (!(error instanceof Refusal)) throw error
      if (error.forbidden) {
        deps.onRequest?.({principal, sessionId: session.id, method: error.forbidden.method, name: error.forbidden.name, outcome: 'forbidden', durationMs: clock.now() - started})
      }
      fail(res, error.status, error.code, error.message, error.headers)
      return undefined
    }
  }

  /** What the exchange needs of the policy: the filters of its requests' responses, and the token's scopes. */
  function exchangePolicy(principal: Principal, steps: Admitted[]): ExchangePolicy | undefined {
    if (!deps.scopes) return undefined
    const filters = new Map<string, (response: JsonRpcMessage) => void>()
    for (const s of steps) if (s.kind === 'request' && s.filter) filters.set(JSON.stringify(s.id), s.filter)
    return {scopes: principal.scopes, filters}
  }

  /** One audit event per request when its answer is complete. */
  function audit(res: ServerResponse, principal: Principal, session: Session, step: Admitted & {kind: 'request' | 'answer'}, exchange: Exchange, started: number) {
    if (!deps.onRequest) return
    const report = deps.onRequest
    res.once('close', () =>
      report({principal, sessionId: session.id, method: step.method, name: step.target?.name ?? null, outcome: exchange.failed ? 'error' : 'ok', durationMs: clock.now() - started}),
    )
  }

  function forwardOther(session: Session, step: Admitted): void {
    if (step.kind === 'notification') session.host.forwardNotification(session, step.msg)
    else if (step.kind === 'response') session.host.forwardResponse(session, step.msg)
  }

  /**
   * A JSON-RPC batch: only in a session that negotiated 2025-03-26 (batching was removed in
   * 2025-06-18). Every member goes through the same policy step as a single message; one refused
   * member refuses the batch (nothing of it is forwarded), a member with invalid params is
   * answered in the batch's stream, and list responses are filtered as for a single request.
   */
  function postBatch(req: IncomingMessage, res: ServerResponse, principal: Principal, batch: unknown[], version: string | undefined) {
    if ((version ?? DEFAULT_VERSION) !== '2025-03-26') {
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: batches are not supported in this protocol version')
    }
    if (batch.length === 0) return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: empty batch')
    const msgs = batch as JsonRpcMessage[]
    if (msgs.some((m) => typeof m !== 'object' || m === null || Array.isArray(m) || m.jsonrpc !== '2.0' || m.method === 'initialize' || (m.params !== undefined && !isObject(m.params)))) {
      // 2025-03-26 lifecycle: initialize MUST NOT be part of a batch.
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: bad batch')
    }
    const session = lookup(req, res, principal)
    if (!session) return
    if (session.protocolVersion !== '2025-03-26') {
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: batches are not supported in this protocol version')
    }
    const started = clock.now()
    const steps: Admitted[] = []
    for (const m of msgs) {
      const step = admit(res, principal, session, m, started)
      if (step === undefined) return
      steps.push(step)
    }
    const ids = new Set<string>()
    for (const s of steps) {
      if (s.kind !== 'request' && s.kind !== 'answer') continue
      const key = JSON.stringify(s.id)
      if (ids.has(key)) return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: two requests of the batch have the same id')
      ids.add(key)
    }
    const requests = steps.filter((s) => s.kind === 'request' || s.kind === 'answer')
    const exchange = requests.length > 0 ? new Exchange(res, session, requests.length, true, exchangePolicy(principal, steps)) : undefined
    for (const s of steps) {
      if (s.kind === 'request') {
        audit(res, principal, session, s, exchange!, started)
        session.host.forwardRequest(session, s.msg, exchange!)
      } else if (s.kind === 'answer') {
        audit(res, principal, session, s, exchange!, started)
        exchange!.final(s.response)
      } else forwardOther(session, s)
    }
    if (!exchange) reply(res, 202, undefined)
  }

  async function initialize(req: IncomingMessage, res: ServerResponse, principal: Principal, msg: JsonRpcMessage) {
    if (!isId(msg.id)) return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize needs an id')
    if (sessionHeader(req) !== undefined) {
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must not carry a session id')
    }
    const params = paramsOf(msg) ?? {}
    const caps = (typeof params.capabilities === 'object' && params.capabilities !== null ? params.capabilities : {}) as Record<string, unknown>
    const capabilities: ClientCapabilities = {
      sampling: caps.sampling !== undefined,
      elicitation: caps.elicitation !== undefined,
      roots: caps.roots !== undefined,
    }
    // Session and child caps (gateway.ts): a place is held from here until the session exists.
    const admitted = await deps.startSession(principal)
    if (!admitted.ok) return fail(res, admitted.status, ErrorCode.InternalError, admitted.message, admitted.headers)
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
    const session = new Session(
      principal,
      protocolVersion,
      capabilities,
      mux,
      {
        replayBufferEvents: limits.replayBufferEvents,
        maxUnsentBytes: limits.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES,
        onCut: (stream, unsent) =>
          logger.warn('SSE connection cut: the client is not reading (it can resume with Last-Event-ID)', {client_id: principal.clientId, stream, unsent_bytes: unsent}),
      },
      clock.now(),
      admitted.id,
    )
    mux.attach(session)
    admitted.commit(session)
    logger.info('session started', {client_id: principal.clientId, session: session.id.slice(0, 8), protocol: protocolVersion})
    const result = {...init, protocolVersion}
    reply(res, 200, JSON.stringify({jsonrpc: '2.0', id: msg.id, result}), {'mcp-session-id': session.id})
  }

  /** GET: the standalone stream (transports §Listening for Messages), or a resumed one (§Resumability). */
  function get(req: IncomingMessage, res: ServerResponse, principal: Principal): void {
    if (!accepts(req, 'text/event-stream')) {
      return fail(res, 406, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must include text/event-stream')
    }
    const version = headerVersion(req)
    if (version !== undefined && !isSupported(version)) return reply(res, 400, unsupportedVersionBody(null, version))
    const session = lookup(req, res, principal)
    if (!session) return
    const last = parseEventId(req.headers['last-event-id'])
    if (last !== undefined) {
      const stream = session.streams.get(last.stream)
      if (stream === undefined) return fail(res, 404, ErrorCode.InvalidRequest, 'Unknown Last-Event-ID')
      if (stream.attached && stream.id === 0) return fail(res, 409, ErrorCode.InvalidRequest, 'Conflict: the stream is already open')
      // A replay carries answers prepared under the scopes of the token that asked (list filtering,
      // calls allowed to it): a token of the same client without them may not read them (item 2).
      const lacking = stream.heldScopes ? missingScopes(stream.heldScopes, principal.scopes) : []
      if (lacking.length > 0) {
        const description = `the stream answers requests made with scope ${lacking.join(' ')}`
        return fail(res, 403, ErrorCode.InvalidRequest, `Forbidden: ${description}`, {
          'www-authenticate': bearerChallenge({error: 'insufficient_scope', scope: [...new Set([...principal.scopes, ...stream.heldScopes!])].join(' '), resource_metadata: deps.resourceMetadataUrl, error_description: description}),
        })
      }
      stream.attach(res)
      stream.replayAfter(last.seq)
      if (stream.ended) res.end()
      return
    }
    if (session.standalone.attached) {
      // One standalone stream per session, so no message is sent twice (§Multiple Connections).
      return fail(res, 409, ErrorCode.InvalidRequest, 'Conflict: only one SSE stream is allowed per session')
    }
    session.attachStandalone(res)
  }

  /** DELETE: the client ends its session (transports §Session Management, 5). */
  function del(req: IncomingMessage, res: ServerResponse, principal: Principal): void {
    const session = lookup(req, res, principal)
    if (!session) return
    sessions.end(session)
    logger.info('session ended by the client', {client_id: principal.clientId, session: session.id.slice(0, 8)})
    reply(res, 200, undefined)
  }

  return async function handleMcp(req: IncomingMessage, res: ServerResponse, log?: {clientId?: string}): Promise<void> {
    const auth = await checkBearer(req)
    if (!auth.ok) {
      req.resume()
      return fail(res, auth.status, ErrorCode.InvalidRequest, `Unauthorized: ${auth.description}`, {
        'www-authenticate': auth.wwwAuthenticate,
      })
    }
    if (log) log.clientId = auth.principal.clientId
    if (deps.admit) {
      const wait = await deps.admit(auth.principal)
      if (wait > 0) {
        req.resume()
        deps.onRequest?.({principal: auth.principal, sessionId: sessionHeader(req) ?? null, method: req.method ?? '', name: null, outcome: 'rate_limited', durationMs: 0})
        return fail(res, 429, ErrorCode.InvalidRequest, 'Too Many Requests: rate limit reached', {'retry-after': String(Math.max(1, Math.ceil(wait)))})
      }
    }
    try {
      switch (req.method) {
        case 'POST':
          return await post(req, res, auth.principal)
        case 'GET':
          return get(req, res, auth.principal)
        case 'DELETE':
          return del(req, res, auth.principal)
        default:
          req.resume()
          return fail(res, 405, ErrorCode.InvalidRequest, 'Method Not Allowed', {allow: 'GET, POST, DELETE'})
      }
    } catch (error) {
      // The one mapping of a refusal to its response (status, JSON-RPC error, headers).
      if (error instanceof Refusal) return reply(res, error.status, error.body(), error.headers)
      throw error
    }
  }
}
