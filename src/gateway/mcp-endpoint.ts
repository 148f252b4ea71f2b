/**
 * The MCP endpoint, Streamable HTTP in two eras on one path (MCP 2026-07-28 versioning
 * §Backward Compatibility: a dual-era server selects its behaviour from how the client opens).
 *
 * Every request goes through the same named steps; each throws Refusal (refusal.ts), which
 * `answerRefusal` turns into a response in one place (status, JSON-RPC error, headers):
 *
 *   authenticate  the bearer token (401 with its challenge), then the client's rate limit (429)
 *   read          POST only: Accept and Content-Type (406, 415), the body within its limits
 *                 (413, 503), JSON of bounded depth, one JSON-RPC 2.0 message or a batch (400)
 *   classify      once per request: a POST without a session id whose `_meta` names a version,
 *                 or whose MCP-Protocol-Version is not a 2025 one, is modern (2026-07-28,
 *                 stateless: modern/modern-endpoint.ts); anything else is a 2025 session's
 *                 (legacy/session-era.ts: initialize, message, batch, GET stream, DELETE)
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {BearerCheck} from './bearer.js'
import {BodyRefusedError, InvalidUtf8Error, readBodyText} from '../http/body.js'
import {ErrorCode, jsonDepthExceeds, MAX_JSON_DEPTH, metaOf, type JsonRpcMessage} from './json-rpc.js'
import type {Multiplexer} from './multiplexer.js'
import {headerVersion, isSupported, MODERN_VERSION_META} from './protocol-version.js'
import type {Principal} from '../principal/principal.js'
import type {Session} from './session.js'
import type {SessionTable} from './sessions.js'
import {answerRefusal, bodyRefusal, invalidRequest, Refusal} from './refusal.js'
import type {ScopeGuard} from './scope-guard.js'
import {createSessionEra} from './legacy/session-era.js'
import {sessionHeader} from './legacy/session-steps.js'

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
   * child (multiplexer) it goes to, started if need be; or says why not (admission.ts).
   */
  startSession(principal: Principal): Promise<SessionStart>
  /**
   * maxJsonDepth: how deep a message's JSON may nest (default MAX_JSON_DEPTH, json-rpc.ts);
   * sseKeepAliveMs: keep-alive comment interval of GET streams (default DEFAULT_SSE_KEEPALIVE_MS, sse.ts; 0: none).
   */
  limits: {maxBodyBytes: number; replayBufferEvents: number; maxUnsentBytes?: number; maxJsonDepth?: number; sseKeepAliveMs?: number}
  logger: Logger
  clock: Clock
  /** The 2026-07-28 era (modern/modern-endpoint.ts); throws Refusal (refusal.ts). */
  modern(req: IncomingMessage, res: ServerResponse, principal: Principal, msg: JsonRpcMessage): Promise<void>
}

/**
 * A session admitted: `commit` once it is attached to `mux`, or `release` if it is not started
 * after all. Or refused: the status (429 over the client's own cap, 503 over a gateway-wide one)
 * with its headers (Retry-After).
 */
export type SessionStart =
  | {ok: true; mux: Multiplexer; id: string; commit(session: Session): void; release(): void}
  | {ok: false; status: 429 | 503; message: string; headers: Record<string, string>}

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

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Whether the Accept header lists `type` (or the any-type range). */
function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept
  if (accept === undefined) return false
  return accept.includes(type) || accept.includes('*/*')
}

/**
 * The body of a POST: one JSON-RPC 2.0 message (an object with `jsonrpc: "2.0"` and, if any,
 * object params), or a batch (an array, checked by the session era). Throws Refusal: 406 or 415
 * for the headers (transports §Sending Messages, 2), 413/503 for the body (http/body.ts), 400
 * -32700 for bytes that are not UTF-8 JSON, 400 -32600 for JSON nested deeper than `maxDepth`
 * (refused before anything walks it: issue 11, item 23) or that is not a message.
 */
async function readMessage(req: IncomingMessage, maxBodyBytes: number, maxDepth: number): Promise<JsonRpcMessage | unknown[]> {
  if (!accepts(req, 'application/json') || !accepts(req, 'text/event-stream')) {
    throw invalidRequest('Not Acceptable: Accept must include application/json and text/event-stream', 406)
  }
  const type = req.headers['content-type']
  if (type === undefined || !/^application\/json\s*(;|$)/i.test(type)) throw invalidRequest('Unsupported Media Type: Content-Type must be application/json', 415)
  let text: string
  try {
    text = await readBodyText(req, maxBodyBytes)
  } catch (error) {
    if (error instanceof BodyRefusedError) throw bodyRefusal(error)
    if (error instanceof InvalidUtf8Error) throw new Refusal(400, ErrorCode.ParseError, error.message)
    throw error
  }
  if (jsonDepthExceeds(text, maxDepth)) throw invalidRequest(`Invalid Request: JSON nested deeper than ${maxDepth} levels`)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new Refusal(400, ErrorCode.ParseError, 'Parse error: the body is not JSON')
  }
  if (Array.isArray(body)) return body as unknown[]
  if (typeof body !== 'object' || body === null) throw invalidRequest('Invalid Request')
  const msg = body as JsonRpcMessage
  if (msg.jsonrpc !== '2.0') throw invalidRequest('Invalid Request: jsonrpc must be "2.0"')
  // MCP params are always an object (schema: `params?: {...}`). A server drops anything else
  // without an answer (the SDK's stdio transport does), which would leave the request hanging
  // until the request timeout: refuse it here instead (JSON-RPC 2.0 §4.2).
  if (msg.params !== undefined && !isObject(msg.params)) throw invalidRequest('Invalid Request: params must be an object')
  return msg
}

/**
 * Returns `handleMcp(req, res, log?)`, everything under /mcp: the steps above, every Refusal
 * answered by answerRefusal. Anything else thrown is the caller's (gateway.ts answers 500).
 * `log.clientId` is set once the token is verified, for the access log.
 */
export function createMcpEndpoint(deps: EndpointDeps) {
  const {checkBearer, limits} = deps
  const legacy = createSessionEra(deps)

  /** The request's principal: its bearer token checked, then the client's rate limit. */
  async function authenticate(req: IncomingMessage, log: {clientId?: string} | undefined): Promise<Principal> {
    const auth = await checkBearer(req)
    if (!auth.ok) {
      req.resume()
      throw invalidRequest(`Unauthorized: ${auth.description}`, auth.status, {'www-authenticate': auth.wwwAuthenticate})
    }
    if (log) log.clientId = auth.principal.clientId
    const wait = deps.admit ? await deps.admit(auth.principal) : 0
    if (wait > 0) {
      req.resume()
      deps.onRequest?.({principal: auth.principal, sessionId: sessionHeader(req) ?? null, method: req.method ?? '', name: null, outcome: 'rate_limited', durationMs: 0})
      throw invalidRequest('Too Many Requests: rate limit reached', 429, {'retry-after': String(Math.max(1, Math.ceil(wait)))})
    }
    return auth.principal
  }

  /** POST: read, classify once, then the era's steps. */
  async function post(req: IncomingMessage, res: ServerResponse, principal: Principal): Promise<void> {
    const version = headerVersion(req)
    const body = await readMessage(req, limits.maxBodyBytes, limits.maxJsonDepth ?? MAX_JSON_DEPTH)
    if (Array.isArray(body)) return legacy.batch(req, res, principal, body, version)
    if (sessionHeader(req) === undefined && isModernMessage(body, version)) return deps.modern(req, res, principal, body)
    // The initialize request negotiates its version in its body (lifecycle §Version Negotiation).
    if (body.method === 'initialize') return legacy.initialize(req, res, principal, body)
    legacy.message(req, res, principal, body, version)
  }

  async function route(req: IncomingMessage, res: ServerResponse, log: {clientId?: string} | undefined): Promise<void> {
    const principal = await authenticate(req, log)
    switch (req.method) {
      case 'POST':
        return post(req, res, principal)
      case 'GET':
        return legacy.get(req, res, principal)
      case 'DELETE':
        return legacy.del(req, res, principal)
      default:
        req.resume()
        throw invalidRequest('Method Not Allowed', 405, {allow: 'GET, POST, DELETE'})
    }
  }

  return async function handleMcp(req: IncomingMessage, res: ServerResponse, log?: {clientId?: string}): Promise<void> {
    try {
      await route(req, res, log)
    } catch (error) {
      // The one mapping of a refusal to its response (status, JSON-RPC error, headers).
      if (error instanceof Refusal) return answerRefusal(res, error)
      throw error
    }
  }
}
