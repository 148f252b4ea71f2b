/**
 * POST /mcp for MCP 2026-07-28 (modern, stateless) requests: classified by the endpoint
 * (mcp-endpoint.ts), then these named steps, each of which throws Refusal (mapped once, by
 * the endpoint) to stop:
 *
 *   envelope   version (header and _meta agreeing), capabilities, log level (envelope.ts)
 *   headers    Mcp-Method / Mcp-Name agree with the body (header-check.ts); for tools/call,
 *              Mcp-Param-* with the tool's x-mcp-header declarations (tool-headers.ts)
 *   policy     the same policy step as a 2025 message, on the body (policy-step.ts)
 *   dispatch   server/discover | subscriptions/listen | a call forwarded to the client's child
 *
 * No session id is minted or required (transports-streamable-http §Backward Compatibility);
 * the token's client keys the child, the policy, the audit trail and rate limits, as for 2025.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Clock} from '../../clock.js'
import type {Logger} from '../../log.js'
import type {Principal} from '../../principal/principal.js'
import {Exchange, type ExchangePolicy} from '../exchange.js'
import {ErrorCode, isNotification, paramsOf, type JsonRpcMessage} from '../json-rpc.js'
import type {McpRequestEvent} from '../mcp-endpoint.js'
import type {Multiplexer} from '../multiplexer.js'
import {admitMessage, refuseScope, Refusal, type Admitted} from '../policy-step.js'
import {MODERN_VERSIONS} from '../protocol-version.js'
import {resolveTarget, type ScopeGuard} from '../scope-guard.js'
import {readEnvelope, SERVER_INFO_META, type Envelope} from './envelope.js'
import {checkStandardHeaders, NAME_SOURCE} from './header-check.js'
import {ParkedElsewhere, type InputRequiredStore} from './input-required.js'
import {honoured, Listener, readFilter} from './listen.js'
import {ModernCall} from './modern-call.js'
import {checkParamHeaders} from './tool-headers.js'
import {shaperFor} from './result-shape.js'
import {FORWARDED_BY, type RetryForwarder} from '../retry-forward.js'

/** ttlMs of list results and server/discover: list changes reach listeners at once anyway. */
export const DEFAULT_LIST_TTL_MS = 60_000

/** Methods of 2025 that 2026-07-28 removed (changelog, major 4 and 5): 404 + -32601 (transports §Protocol Version Header). */
const REMOVED = new Set(['ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'initialize'])

export interface ModernDeps {
  scopes?: ScopeGuard
  resourceMetadataUrl: string
  onRequest?: (event: McpRequestEvent) => void
  /** The child for this principal's 2026 requests, ready; or a Refusal (503 when no child may be started). */
  childFor(principal: Principal): Promise<Multiplexer>
  inputRequired: InputRequiredStore
  /** Admits a new listener of this principal (a per-client cap), or throws Refusal; the listener is registered for revocation. */
  addListener(listener: Listener): void
  removeListener(listener: Listener): void
  canListen(principal: Principal): Promise<void> | void
  clock: Clock
  logger: Logger
  listTtlMs?: number
  maxUnsentBytes?: number
  /** Keep-alive comment interval (ms) of listen streams (sse.ts); 0 or absent: none. */
  keepAliveMs?: number
  /** Sends a retry whose parked request is on another node there, and relays its answer (src/gateway/retry-forward.ts). */
  forwardRetry?: RetryForwarder
}

/** Responses relayed from the node that ran the request (a forwarded retry): audited there. */
const forwarded = new WeakSet<ServerResponse>()

const serverInfoJsons = new WeakMap<Multiplexer, string>()

export function createModernEra(deps: ModernDeps) {
  const {clock} = deps
  const listTtlMs = deps.listTtlMs ?? DEFAULT_LIST_TTL_MS

  function serverInfoJson(mux: Multiplexer): string {
    let json = serverInfoJsons.get(mux)
    if (json === undefined) {
      const info = mux.initResult?.serverInfo
      json = JSON.stringify(typeof info === 'object' && info !== null ? info : {name: 'unknown', version: '0'})
      serverInfoJsons.set(mux, json)
    }
    return json
  }

  function exchangePolicy(principal: Principal, step: Admitted): ExchangePolicy | undefined {
    if (!deps.scopes) return undefined
    const filters = new Map<string, (response: JsonRpcMessage) => void>()
    if (step.kind === 'request' && step.filter) filters.set(JSON.stringify(step.id), step.filter)
    return {scopes: principal.scopes, filters}
  }

  function reply(res: ServerResponse, status: number, body?: string): void {
    if (res.headersSent) return void res.end()
    res.writeHead(status, body === undefined ? {} : {'content-type': 'application/json'})
    res.end(body)
  }

  /** One modern POST; throws Refusal for the endpoint to map. */
  return async function modernPost(req: IncomingMessage, res: ServerResponse, principal: Principal, msg: JsonRpcMessage): Promise<void> {
    const started = clock.now()
    const envelope = readEnvelope(req, msg)
    if (isNotification(msg)) {
      // Closing a response stream is the cancellation on HTTP (basic-patterns-cancellation);
      // a notifications/cancelled the client also posts has nothing left to do.
      if (!(msg.method as string).startsWith('notifications/')) throw new Refusal(400, ErrorCode.InvalidRequest, `Invalid Request: ${String(msg.method)} is a request method and needs an id`)
      return reply(res, 202)
    }
    if (msg.id === undefined || typeof msg.method !== 'string') throw new Refusal(400, ErrorCode.InvalidRequest, 'Invalid Request: a client may send only requests and notifications')
    checkStandardHeaders(req, msg)
    const original = NAME_SOURCE[msg.method] ? (paramsOf(msg)?.[NAME_SOURCE[msg.method]!] as string) : null
    let step: Admitted
    try {
      step = admitMessage(msg, {principal, guard: deps.scopes, resourceMetadataUrl: deps.resourceMetadataUrl})
    } catch (error) {
      if (error instanceof Refusal && error.forbidden) {
        deps.onRequest?.({principal, sessionId: null, method: error.forbidden.method, name: error.forbidden.name, outcome: 'forbidden', durationMs: clock.now() - started})
      }
      throw error
    }
    if (step.kind !== 'request' && step.kind !== 'answer') throw new Refusal(400, ErrorCode.InvalidRequest, 'Invalid Request')
    if (REMOVED.has(step.method)) {
      throw new Refusal(404, ErrorCode.MethodNotFound, `Method not found: ${step.method} is not part of protocol version ${envelope.version}`, {}, undefined, step.id)
    }
    audit(res, principal, step, started)
    if (step.kind === 'answer') return reply(res, 200, step.response)
    const mux = await deps.childFor(principal)
    if (step.method === 'server/discover') return reply(res, 200, discover(step, mux))
    if (step.method === 'subscriptions/listen') return listen(res, principal, msg, step, mux)
    // transports-streamable-http §Custom Headers from Tool Parameters: Mcp-Param-* as the tool declares them.
    if (step.method === 'tools/call' && typeof original === 'string') checkParamHeaders(req, msg, (await mux.toolHeaders()).get(original))
    try {
      call(res, principal, msg, step, envelope, mux, step.target?.name ?? original)
    } catch (error) {
      // Forwarded once at most: a retry that was forwarded here and is not parked here is refused.
      if (error instanceof ParkedElsewhere && deps.forwardRetry && req.headers[FORWARDED_BY] === undefined) {
        // Audited by the node that runs it, not twice.
        forwarded.add(res)
        return deps.forwardRetry(error, req, res, JSON.stringify(msg))
      }
      throw error
    }
  }

  function audit(res: ServerResponse, principal: Principal, step: Admitted & {kind: 'request' | 'answer'}, started: number) {
    if (!deps.onRequest) return
    const report = deps.onRequest
    res.once('close', () => {
      if (forwarded.has(res)) return
      report({principal, sessionId: null, method: step.method, name: step.target?.name ?? null, outcome: res.statusCode >= 400 ? 'error' : 'ok', durationMs: clock.now() - started})
    })
  }

  /** server/discover (2026-07-28 server-discover): the child's identity and capabilities, the modern versions served. */
  function discover(step: Admitted & {kind: 'request'}, mux: Multiplexer): string {
    const init = mux.initResult ?? {}
    const result: Record<string, unknown> = {
      resultType: 'complete',
      supportedVersions: [...MODERN_VERSIONS],
      capabilities: init.capabilities ?? {},
      ...(typeof init.instructions === 'string' ? {instructions: init.instructions} : {}),
      ttlMs: listTtlMs,
      cacheScope: 'private',
      _meta: {[SERVER_INFO_META]: JSON.parse(serverInfoJson(mux)) as unknown},
    }
    return JSON.stringify({jsonrpc: '2.0', id: step.id, result})
  }

  async function listen(res: ServerResponse, principal: Principal, msg: JsonRpcMessage, step: Admitted & {kind: 'request'}, mux: Multiplexer): Promise<void> {
    const filter = readFilter(msg)
    // Every resource URI is normalised and checked against the policy like a resources/read.
    const uris: string[] = []
    for (const uri of filter.resourceSubscriptions ?? []) {
      let target
      try {
        target = resolveTarget({method: 'resources/read', params: {uri}})!
      } catch (error) {
        throw new Refusal(400, ErrorCode.InvalidParams, (error as Error).message, {}, undefined, step.id)
      }
      if (deps.scopes) refuseScope(principal, deps.scopes, 'subscriptions/listen', target, deps.resourceMetadataUrl)
      uris.push(target.name)
    }
    await deps.canListen(principal)
    const agreed = honoured({...filter, ...(filter.resourceSubscriptions ? {resourceSubscriptions: uris} : {})}, mux.initResult?.capabilities as Record<string, unknown> | undefined)
    const listener = new Listener(step.id, agreed, principal, mux, res, (l) => deps.removeListener(l), deps.maxUnsentBytes, deps.keepAliveMs)
    if (!listener.ended) deps.addListener(listener)
  }

  function call(res: ServerResponse, principal: Principal, msg: JsonRpcMessage, step: Admitted & {kind: 'request'}, envelope: Envelope, mux: Multiplexer, target: string | null): void {
    const params = paramsOf(msg)
    const retried = params !== undefined && (params.requestState !== undefined || params.inputResponses !== undefined)
    const caller = new ModernCall(principal, envelope, step.method, target, deps.maxUnsentBytes)
    const sealState = mux.era === 'modern' ? (state: string) => deps.inputRequired.sealChildState(caller, state) : undefined
    const exchange = new Exchange(res, caller, 1, false, exchangePolicy(principal, step), shaperFor(step.method, {serverInfoJson: serverInfoJson(mux), listTtlMs, sealState}, retried))
    const idJson = JSON.stringify(step.id)
    // Closing the response stream cancels the request at the child (2026-07-28 transports-streamable-http §Cancellation).
    res.once('close', () => {
      caller.closed = true
      if (caller.inflight.size > 0) mux.cancelRequest(caller, idJson, 'the client closed the response stream')
    })
    if (mux.era === 'modern') {
      // A 2026-07-28 child runs its own multi round-trip requests: the retry reaches it with the
      // caller's inputResponses and the child's own requestState (unsealed, checked).
      if (params?.requestState !== undefined) params.requestState = deps.inputRequired.openChildState(principal, msg, caller)
      mux.forwardRequest(caller, msg, exchange)
      return
    }
    if (retried && params.requestState !== undefined) {
      deps.inputRequired.resume(principal, msg, caller, exchange)
      return
    }
    if (params !== undefined) delete params.inputResponses
    mux.forwardRequest(caller, msg, exchange)
  }
}
