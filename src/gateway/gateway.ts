/**
 * The gateway: the MCP resource server in front of a local stdio MCP server. Wires the bearer
 * check, the MCP endpoint (mcp-endpoint.ts, both eras), the session table, the children
 * (child-pool.ts, by isolation mode), admission under the caps (admission.ts) and the revocation
 * watch (revocation-watch.ts); runs the sweep and revocation timers; reaps children a previous
 * daemon left. `handle` answers refusals of its own (closing, store away) through the endpoint's
 * one mapping (refusal.ts).
 */
import {STORE_RETRY_AFTER_SECONDS} from '../http/respond.js'
import {StoreUnavailableError} from '../store/errors.js'
import {randomBytes} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {createAdmission} from './admission.js'
import {createBearerCheck} from './bearer.js'
import {createChildPool, DEFAULT_INITIALIZE_TIMEOUT_MS, DEFAULT_MAX_CHILDREN, type ChildSnapshot} from './child-pool.js'
import {createChildRegistry} from './child-registry.js'
import {createMcpEndpoint} from './mcp-endpoint.js'
import {reapLeftoverChildren} from './reaper.js'
import {protectedResourceMetadata} from './resource-metadata.js'
import type {Session} from './session.js'
import {SessionTable} from './sessions.js'
import {InputRequiredStore} from './modern/input-required.js'
import type {Listener} from './modern/listen.js'
import {createModernEra} from './modern/modern-endpoint.js'
import {answerRefusal, Refusal} from './refusal.js'
import {ErrorCode} from './json-rpc.js'
import {createRevocationWatch} from './revocation-watch.js'
import {DEFAULT_REVOCATION_CHECK_MS, type GatewayOptions} from './gateway-options.js'
import {DEFAULT_SSE_KEEPALIVE_MS} from './sse.js'

export {DEFAULT_MAX_CHILDREN, isolationKey, type ChildSnapshot, type Isolation} from './child-pool.js'
export {perClientSessionCap} from './admission.js'
export {DEFAULT_REVOCATION_CHECK_MS, type GatewayLimits, type GatewayOptions} from './gateway-options.js'

export interface Gateway {
  /** Everything under /mcp (POST, GET, DELETE), including the bearer check. */
  handle(req: IncomingMessage, res: ServerResponse, log?: {clientId?: string}): Promise<void>
  /** The RFC 9728 document for /.well-known/oauth-protected-resource/mcp, as seen by the request's Host and path. */
  protectedResourceMetadata(req?: IncomingMessage): Record<string, unknown>
  stats(): {sessions: number; children: number}
  /** Ends sessions and stops every child (SIGTERM, then SIGKILL after killGraceMs). */
  close(): Promise<void>
  /** Resolves once children left by a previous daemon are reaped (handle waits for it too). */
  readonly ready: Promise<void>
  /** Times out overdue requests and expires idle sessions and children now (runs on a timer too). */
  sweep(): void
  /** Pids of the running children; for tests and diagnostics. */
  childPids(): number[]
  /** Checks open sessions for revocation now (runs on a timer too); resolves when done. */
  checkRevocations(): Promise<void>
  /** Live sessions and children, with the client each serves (null: shared); for `gatehouse status`. */
  snapshot(): {sessions: Array<{clientId: string}>; children: ChildSnapshot[]}
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000

export function createGateway(options: GatewayOptions): Gateway {
  const {logger, clock, limits, isolation, dataDir} = options
  const requestTimeoutMs = limits.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  if (isolation === 'shared') {
    logger.warn('isolation "shared": every client talks to one MCP server process and shares its state')
  }
  const registry = createChildRegistry({dataDir, logger})
  const sessions = new SessionTable({...limits, nodeId: options.nodeId})
  /** Parked 2026 requests waiting for their client's input (modern/input-required.ts). */
  const inputRequired = new InputRequiredStore({
    key: options.requestStateKey ?? randomBytes(32),
    nodeId: options.nodeId,
    clock,
    logger,
    ttlMs: limits.inputRequiredTtlMs,
    maxPerClient: limits.maxInputRequiredPerClient,
  })
  /** Open 2026 subscriptions/listen streams, for the per-client cap, revocation and close. */
  const listeners = new Set<Listener>()
  let closing = false

  const ready = reapLeftoverChildren({dataDir, logger, killGraceMs: limits.killGraceMs}).then(
    (r) => {
      if (r.killed.length > 0) logger.warn('reaped children left by a previous daemon', {count: r.killed.length})
    },
    (error: Error) => logger.warn('could not reap leftover children', {error: error.message}),
  )
  let isReady = false
  void ready.then(() => (isReady = true))

  const endSessions = (list: Session[]) => {
    for (const s of list) sessions.end(s)
  }

  const children = createChildPool({
    isolation,
    command: options.command,
    dataDir,
    env: options.env,
    parentEnv: options.parentEnv ?? process.env,
    maxChildren: limits.maxChildren ?? DEFAULT_MAX_CHILDREN,
    childIdleTimeoutMs: limits.childIdleTimeoutMs,
    killGraceMs: limits.killGraceMs,
    registry,
    logger,
    clock,
    child: {
      maxLineBytes: limits.maxLineBytes,
      requestTimeoutMs,
      initializeTimeoutMs: Math.min(requestTimeoutMs, limits.initializeTimeoutMs ?? DEFAULT_INITIALIZE_TIMEOUT_MS),
      discoverTimeoutMs: limits.discoverTimeoutMs,
      onInputRequired: inputRequired.onInputRequired,
    },
    onChildExit: endSessions,
  })
  const admission = createAdmission({
    limits,
    isolation,
    sessions,
    children,
    sessionLimit: options.sessionLimit,
    listenerClients: () => [...listeners].map((l) => l.clientId),
    closing: () => closing,
    logger,
  })

  const modern = createModernEra({
    scopes: options.scopes,
    resourceMetadataUrl: options.resourceMetadataUrl,
    onRequest: options.onRequest,
    childFor: admission.childFor,
    inputRequired,
    forwardRetry: options.forwardRetry,
    clock,
    logger,
    maxUnsentBytes: limits.maxUnsentBytes,
    keepAliveMs: limits.sseKeepAliveMs ?? DEFAULT_SSE_KEEPALIVE_MS,
    canListen: admission.canListen,
    addListener: (l) => void listeners.add(l),
    removeListener: (l) => void listeners.delete(l),
  })

  const endpoint = createMcpEndpoint({
    modern,
    checkBearer: createBearerCheck({
      verifier: options.verifier,
      resource: options.resource,
      resourceMetadataUrl: options.viewFor ? (req) => options.viewFor!(req).resourceMetadataUrl : options.resourceMetadataUrl,
      now: () => clock.now(),
    }),
    sessions,
    startSession: admission.startSession,
    limits,
    logger,
    clock,
    scopes: options.scopes,
    admit: options.admit,
    onRequest: options.onRequest,
    resourceMetadataUrl: options.resourceMetadataUrl,
  })

  function sweep(): void {
    const now = clock.now()
    inputRequired.sweep(now)
    for (const s of sessions.idle(now)) {
      logger.info('session expired', {client_id: s.clientId, session: s.tag})
      sessions.end(s)
    }
    children.sweep(now)
  }

  const checkRevocations = createRevocationWatch({verifier: options.verifier, sessions, listeners, children, isolation, closing: () => closing, logger})
  const runRevocationCheck = () => void checkRevocations()

  const timer = setInterval(sweep, limits.sweepIntervalMs ?? 1000)
  timer.unref()
  const revocationTimer = setInterval(runRevocationCheck, limits.revocationCheckMs ?? DEFAULT_REVOCATION_CHECK_MS)
  revocationTimer.unref()
  const scopesSupported = options.scopesSupported
  const metadata = (req?: IncomingMessage) => {
    const view = req && options.viewFor ? options.viewFor(req) : {resource: [options.resource].flat()[0]!, authorizationServers: options.authorizationServers}
    return protectedResourceMetadata({...view, scopesSupported: typeof scopesSupported === 'function' ? scopesSupported() : scopesSupported})
  }

  return {
    ready,
    sweep,
    async handle(req, res, log) {
      if (!isReady) await ready
      if (closing) {
        req.resume()
        return answerRefusal(res, new Refusal(503, ErrorCode.InternalError, 'the gateway is shutting down', {'retry-after': '1'}))
      }
      try {
        await endpoint(req, res, log)
      } catch (error) {
        if (error instanceof StoreUnavailableError && !res.headersSent) {
          // The shared database is away: a refusal with Retry-After, never a 5xx (issue 14).
          return answerRefusal(res, new Refusal(429, ErrorCode.InternalError, 'The store is unavailable; retry later', {'retry-after': String(STORE_RETRY_AFTER_SECONDS)}))
        }
        logger.error('MCP endpoint failed', {error: error instanceof Error ? error.message : String(error)})
        if (!res.headersSent) {
          res.writeHead(500, {'content-type': 'application/json'})
          res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}')
        } else res.end()
      }
    },
    protectedResourceMetadata: metadata,
    stats: () => ({sessions: sessions.size, children: children.running()}),
    childPids: children.pids,
    checkRevocations,
    snapshot: () => ({sessions: sessions.all().map((s) => ({clientId: s.clientId})), children: children.snapshot()}),
    async close() {
      if (closing) return
      closing = true
      clearInterval(timer)
      clearInterval(revocationTimer)
      endSessions(sessions.all())
      for (const l of [...listeners]) l.end(true)
      // Every child, whatever its state: SIGTERM, SIGKILL after killGraceMs (child-process.ts bounds the wait).
      await children.stopAll()
      await registry.flush()
    },
  }
}
