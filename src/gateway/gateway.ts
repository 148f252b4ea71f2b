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
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import {createAdmission} from './admission.js'
import {createBearerCheck} from './bearer.js'
import {createChildPool, DEFAULT_INITIALIZE_TIMEOUT_MS, DEFAULT_MAX_CHILDREN, type ChildSnapshot, type Isolation} from './child-pool.js'
import {createChildRegistry} from './child-registry.js'
import {createMcpEndpoint, type EndpointDeps} from './mcp-endpoint.js'
import type {ScopeGuard} from './scope-guard.js'
import type {Principal, TokenVerifier} from '../principal/principal.js'
import {reapLeftoverChildren} from './reaper.js'
import {protectedResourceMetadata, type ResourceView} from './resource-metadata.js'
import type {Session} from './session.js'
import {SessionTable} from './sessions.js'
import {InputRequiredStore} from './modern/input-required.js'
import type {Listener} from './modern/listen.js'
import {createModernEra} from './modern/modern-endpoint.js'
import {answerRefusal, Refusal} from './refusal.js'
import {ErrorCode} from './json-rpc.js'
import {createRevocationWatch} from './revocation-watch.js'
import {DEFAULT_SSE_KEEPALIVE_MS} from './sse.js'

export {DEFAULT_MAX_CHILDREN, isolationKey, type ChildSnapshot, type Isolation} from './child-pool.js'
export {perClientSessionCap} from './admission.js'

export interface GatewayLimits {
  maxSessions: number
  sessionIdleTimeoutMs: number
  childIdleTimeoutMs: number
  maxLineBytes: number
  maxBodyBytes: number
  replayBufferEvents: number
  /** Bytes that may wait unsent on one SSE connection before it is cut (default 8 MiB). */
  maxUnsentBytes?: number
  /** How often (ms) an idle GET or subscriptions/listen stream gets an SSE keep-alive comment; default 15 s; 0: never. */
  sseKeepAliveMs?: number
  killGraceMs: number
  /** How long a request may wait for the child's answer; default 60 s. */
  requestTimeoutMs?: number
  /** How deep a client's JSON may nest; default MAX_JSON_DEPTH (128). */
  maxJsonDepth?: number
  /** How often idle sessions, idle children and overdue requests are swept; default 1 s. */
  sweepIntervalMs?: number
  /** Sessions one client may hold (a client's own setting wins); default maxSessions / 4 (and maxChildren / 4 in session isolation). */
  maxSessionsPerClient?: number
  /** Child processes at once (children being stopped aside); default 100. */
  maxChildren?: number
  /** How long a child may take to answer the gateway's initialize; default 30 s. */
  initializeTimeoutMs?: number
  /** How long a child may stay silent on the server/discover probe before it is spoken to in 2025 (child-era.ts); 0: no probe; default 2 s. */
  discoverTimeoutMs?: number
  /** How often open sessions are checked for revocation; default 250 ms. */
  revocationCheckMs?: number
  /** How long a 2026 request waiting for the client's input (multi round-trip) is kept; default 5 min. */
  inputRequiredTtlMs?: number
  /** 2026 requests one client may have waiting for input at once; default 16. */
  maxInputRequiredPerClient?: number
}

export const DEFAULT_REVOCATION_CHECK_MS = 250

export interface GatewayOptions {
  verifier: TokenVerifier
  /** This daemon's node id (src/daemon/node-id.ts): 2025 session ids name it. */
  nodeId?: string
  /** Absolute URL of the MCP endpoint (or one per name the daemon serves); tokens must carry one as audience. */
  resource: string | readonly string[]
  /** The resource as seen under the request's Host and path (RFC 9728 §3.3); default: the options above. */
  viewFor?: (req: IncomingMessage) => ResourceView
  /** Absolute URL of /.well-known/oauth-protected-resource/mcp. */
  resourceMetadataUrl: string
  authorizationServers: string[]
  /** For the resource metadata; a function when it changes (policy reloads). */
  scopesSupported: readonly string[] | (() => readonly string[])
  /** Tool-level scopes (a policy); absent: every valid token may use everything. */
  scopes?: ScopeGuard
  /** Opt-in per-client rate limit: seconds to wait, 0 to go ahead. */
  admit?: EndpointDeps['admit']
  /** A client's own session cap (the store's per-client setting); null or absent: the gateway's. */
  sessionLimit?: (principal: Principal) => Promise<number | null> | number | null
  /** Every MCP request, for the audit trail. */
  onRequest?: EndpointDeps['onRequest']
  /** The stdio MCP server to gate; undefined = the bundled @modelcontextprotocol/server-memory. */
  command: {command: string; args: string[]} | undefined
  dataDir: string
  isolation: Isolation
  /** --env KEY=VALUE pass-through for children. */
  env: Record<string, string>
  limits: GatewayLimits
  logger: Logger
  clock: Clock
  /** The daemon's environment, from which PATH, HOME, locale and TZ pass to children; default process.env. */
  parentEnv?: NodeJS.ProcessEnv
  /** The key that seals 2026 requestState values (32+ bytes); default 32 random bytes made at start. */
  requestStateKey?: Uint8Array
}

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
      logger.info('session expired', {client_id: s.clientId, session: s.id.slice(0, 8)})
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
