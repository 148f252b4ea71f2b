/**
 * The MCP endpoint, Streamable HTTP as of protocol versions 2025-03-26, 2025-06-18 and
 * 2025-11-25 (MCP 2025-11-25 transports §Streamable HTTP): POST carries one JSON-RPC message
 * (a batch only in a 2025-03-26 session), GET opens the server's stream (or resumes one with
 * Last-Event-ID), DELETE ends the session. A step of its own for each check, in this order:
 * bearer token, method, headers, body, session.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import {quote, type BearerCheck} from './bearer.js'
import {BodyRefusedError, InvalidUtf8Error, readBodyText, sendRefusal} from '../http/body.js'
import {Exchange} from './exchange.js'
import {ErrorCode, errorResponse, isId, isNotification, isRequest, isResponse, paramsOf, type JsonRpcMessage} from './json-rpc.js'
import type {Multiplexer} from './multiplexer.js'
import {headerVersion, isSupported, modernVersion, negotiate, unsupportedVersionBody, DEFAULT_VERSION} from './protocol-version.js'
import type {Principal} from './principal.js'
import {Session, type ClientCapabilities} from './session.js'
import type {SessionTable} from './sessions.js'
import {DEFAULT_MAX_UNSENT_BYTES, parseEventId} from './sse.js'
import {targetOf, type ScopeGuard, type Target} from './scope-guard.js'

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
  /** The child (multiplexer) a new session of this principal goes to; started if need be. */
  multiplexerFor(principal: Principal): Multiplexer
  limits: {maxBodyBytes: number; replayBufferEvents: number; maxUnsentBytes?: number}
  logger: Logger
  clock: Clock
}

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
    const session = sessions.find(id, principal.clientId)
    if (session === undefined) fail(res, 404, ErrorCode.InvalidRequest, 'Session not found')
    else session.lastActivity = clock.now()
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

    // A 2026-07-28 (stateless) client: answer so it recognizes a legacy-capable server and falls
    // back to initialize (2026-07-28 transports-streamable-http §Backward Compatibility;
    // versioning §Backward Compatibility with Initialization-Based Versions).
    const modern = sessionHeader(req) === undefined ? modernVersion(msg, version) : undefined
    if (modern !== undefined && !isSupported(modern)) {
      return reply(res, 400, unsupportedVersionBody(isId(msg.id) ? msg.id : null, modern))
    }
    // transports §Protocol Version Header: an unsupported version is a 400. The initialize
    // request itself negotiates in its body (lifecycle §Version Negotiation).
    if (version !== undefined && !isSupported(version) && msg.method !== 'initialize') {
      return reply(res, 400, unsupportedVersionBody(isId(msg.id) ? msg.id : null, version))
    }

    if (msg.method === 'initialize') return initialize(req, res, principal, msg)
    const session = lookup(req, res, principal)
    if (!session) return
    if (isRequest(msg)) {
      if (!isId(msg.id)) return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: bad id')
      const target = targetOf(msg)
      const started = clock.now()
      if (target && deps.scopes && refuseScope(res, principal, session, msg.method as string, target, started)) return
      const exchange = new Exchange(res, session, 1, false, deps.scopes?.listFilter(principal, msg.method as string))
      if (deps.onRequest) {
        const report = deps.onRequest
        res.once('close', () =>
          report({principal, sessionId: session.id, method: msg.method as string, name: target?.name ?? null, outcome: exchange.failed ? 'error' : 'ok', durationMs: clock.now() - started}),
        )
      }
      session.host.forwardRequest(session, msg, exchange)
      return
    }
    if (isNotification(msg)) session.host.forwardNotification(session, msg)
    else if (isResponse(msg)) session.host.forwardResponse(session, msg)
    else return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC message')
    // transports §Sending Messages, 4: notifications and responses get 202 with no body.
    reply(res, 202, undefined)
  }

  /**
   * HTTP 403 with the scope challenge when the token lacks a scope the target needs (RFC 6750
   * §3.1; MCP 2025-11-25 authorization §Scope Challenge Handling). `scope` lists the token's
   * scopes plus the missing ones, so a step-up does not lose what was granted ("recommended
   * approach"). True when refused.
   */
  function refuseScope(res: ServerResponse, principal: Principal, session: Session, method: string, target: Target, started: number): boolean {
    const {required, missing} = deps.scopes!.check(principal, target)
    if (missing.length === 0) return false
    const scope = [...new Set([...principal.scopes, ...required])].join(' ')
    const description = `${target.kind.slice(0, -1)} ${target.name} needs scope ${missing.join(' ')}`
    fail(res, 403, ErrorCode.InvalidRequest, `Forbidden: ${description}`, {
      'www-authenticate': `Bearer error="insufficient_scope", scope="${quote(scope)}", resource_metadata="${quote(deps.resourceMetadataUrl)}", error_description="${quote(description)}"`,
    })
    deps.onRequest?.({principal, sessionId: session.id, method, name: target.name, outcome: 'forbidden', durationMs: clock.now() - started})
    return true
  }

  /** A JSON-RPC batch: only in a session that negotiated 2025-03-26 (batching was removed in 2025-06-18). */
  function postBatch(req: IncomingMessage, res: ServerResponse, principal: Principal, batch: unknown[], version: string | undefined) {
    if ((version ?? DEFAULT_VERSION) !== '2025-03-26') {
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: batches are not supported in this protocol version')
    }
    if (batch.length === 0) return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: empty batch')
    const msgs = batch as JsonRpcMessage[]
    if (msgs.some((m) => typeof m !== 'object' || m === null || m.jsonrpc !== '2.0' || m.method === 'initialize' || (m.params !== undefined && !isObject(m.params)))) {
      // 2025-03-26 lifecycle: initialize MUST NOT be part of a batch.
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: bad batch')
    }
    const session = lookup(req, res, principal)
    if (!session) return
    if (deps.scopes) {
      for (const m of msgs) {
        const target = isRequest(m) ? targetOf(m) : undefined
        if (target && refuseScope(res, principal, session, m.method as string, target, clock.now())) return
      }
    }
    if (session.protocolVersion !== '2025-03-26') {
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: batches are not supported in this protocol version')
    }
    const requests = msgs.filter((m) => isRequest(m) && isId(m.id))
    const exchange = requests.length > 0 ? new Exchange(res, session, requests.length, true) : undefined
    for (const m of msgs) {
      if (isRequest(m) && isId(m.id)) session.host.forwardRequest(session, m, exchange!)
      else if (isNotification(m)) session.host.forwardNotification(session, m)
      else if (isResponse(m)) session.host.forwardResponse(session, m)
    }
    if (!exchange) reply(res, 202, undefined)
  }

  async function initialize(req: IncomingMessage, res: ServerResponse, principal: Principal, msg: JsonRpcMessage) {
    if (!isId(msg.id)) return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize needs an id')
    if (sessionHeader(req) !== undefined) {
      return fail(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must not carry a session id')
    }
    if (sessions.full) {
      return fail(res, 503, ErrorCode.InternalError, 'Too many sessions; try again later', {'retry-after': '5'})
    }
    const params = paramsOf(msg) ?? {}
    const caps = (typeof params.capabilities === 'object' && params.capabilities !== null ? params.capabilities : {}) as Record<string, unknown>
    const capabilities: ClientCapabilities = {
      sampling: caps.sampling !== undefined,
      elicitation: caps.elicitation !== undefined,
      roots: caps.roots !== undefined,
    }
    const mux = deps.multiplexerFor(principal)
    let init: Record<string, unknown>
    try {
      init = await mux.ready
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      logger.warn('session refused: the MCP server is not available', {client_id: principal.clientId, reason})
      return reply(res, 200, errorResponse(msg.id, ErrorCode.InternalError, `MCP server unavailable: ${reason}`))
    }
    if (mux.dead) {
      return reply(res, 200, errorResponse(msg.id, ErrorCode.InternalError, 'MCP server unavailable: it exited'))
    }
    if (sessions.full) {
      return fail(res, 503, ErrorCode.InternalError, 'Too many sessions; try again later', {'retry-after': '5'})
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
    )
    mux.attach(session)
    sessions.add(session)
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
    switch (req.method) {
      case 'POST':
        return post(req, res, auth.principal)
      case 'GET':
        return get(req, res, auth.principal)
      case 'DELETE':
        return del(req, res, auth.principal)
      default:
        req.resume()
        return fail(res, 405, ErrorCode.InvalidRequest, 'Method Not Allowed', {allow: 'GET, POST, DELETE'})
    }
  }
}
