/**
 * The gateway: the MCP resource server in front of a local stdio MCP server. Composes the bearer
 * check, the MCP endpoint, the session table and the child supervisors (one per OAuth client,
 * per session, or one for all, by isolation mode), and reaps children a previous daemon left.
 *
 * Limits on sessions and children (issue 11, item 13): `maxSessions` in all, a per-client share
 * of them (a client's own setting, else `maxSessionsPerClient`, else a quarter of the global
 * cap), and `maxChildren` processes. Over a client's own share the answer is 429 (RFC 6585 §4:
 * that client sent too much; others are not affected); over a cap of the whole gateway it is
 * 503 (RFC 9110 §15.6.4: the server is overloaded for now). Both carry Retry-After. Neither is
 * 400, 404 or 405, on which clients fall back to the old HTTP+SSE transport (MCP 2025-11-25
 * transports §Backwards Compatibility).
 *
 * Revocation reaches open sessions (item 15): a few times a second every open session's latest
 * principal is checked with the verifier's `revocation` (answered from memory unless the store
 * changed: SQLite's data_version, per event-loop turn, for another process such as the CLI; the
 * daemon's own revocations directly). A revoked session ends with its streams, its requests in
 * flight are answered with an error, and a child left without sessions is stopped at once.
 */
import {STORE_RETRY_AFTER_SECONDS} from '../http/respond.js'
import {StoreUnavailableError} from '../store/errors.js'
import {randomBytes} from 'node:crypto'
import {mkdir} from 'node:fs/promises'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {join} from 'node:path'
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import {createBearerCheck} from './bearer.js'
import {childEnv, type ChildIdentity} from './child-env.js'
import {createChildRegistry} from './child-registry.js'
import {defaultServerSpec} from './default-server.js'
import {createMcpEndpoint, type EndpointDeps} from './mcp-endpoint.js'
import type {ScopeGuard} from './scope-guard.js'
import {Multiplexer} from './multiplexer.js'
import type {Principal, TokenVerifier} from '../principal/principal.js'
import {reapLeftoverChildren} from './reaper.js'
import {protectedResourceMetadata, type ResourceView} from './resource-metadata.js'
import type {Session} from './session.js'
import {SessionTable} from './sessions.js'
import {InputRequiredStore} from './modern/input-required.js'
import type {Listener} from './modern/listen.js'
import {createModernEra} from './modern/modern-endpoint.js'
import {Refusal} from './policy-step.js'
import {ErrorCode} from './json-rpc.js'

export type Isolation = 'client' | 'session' | 'shared' | 'user'

export interface GatewayLimits {
  maxSessions: number
  sessionIdleTimeoutMs: number
  childIdleTimeoutMs: number
  maxLineBytes: number
  maxBodyBytes: number
  replayBufferEvents: number
  /** Bytes that may wait unsent on one SSE connection before it is cut (default 8 MiB). */
  maxUnsentBytes?: number
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

export const DEFAULT_MAX_CHILDREN = 100
export const DEFAULT_INITIALIZE_TIMEOUT_MS = 30_000
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

/** A running child as `snapshot()` shows it. `restarts`: children started before it for the same client (or the shared one). */
export interface ChildSnapshot {
  pid: number
  /** The client it serves; null for the `shared` child and for a person's child (`--isolation user`). */
  clientId: string | null
  /** The person it serves in `--isolation user` (their stable id), else null. */
  userId: string | null
  startedAt: number
  restarts: number
  stderr: string[]
}

/**
 * Which child a session of `principal` goes to. `client`: one per OAuth client; `session`: a fresh
 * key each time (a child per session); `shared`: one for all; `user` (issue 17): one per person,
 * so all of that person's clients share it. A token with no person (client credentials) keeps a
 * child per client in `user` mode: it never joins anyone's.
 */
export function isolationKey(isolation: Isolation, principal: Principal, next: () => number): string {
  switch (isolation) {
    case 'client':
      return `client:${principal.clientId}`
    case 'shared':
      return 'shared'
    case 'session':
      return `session:${next()}`
    case 'user':
      return principal.user ? `user:${principal.user.id}` : `client:${principal.clientId}`
  }
}

/**
 * What the child is told about whom it serves (child-env.ts): nothing in `shared`; in `user`
 * mode, the person (never a token) and, as the client, the one whose session started it (all of
 * that person's clients share the child, so no client's scopes describe it: none are given).
 */
function childIdentity(isolation: Isolation, principal: Principal): ChildIdentity | undefined {
  if (isolation === 'shared') return undefined
  if (isolation === 'user' && principal.user) return {clientId: principal.clientId, clientScopes: undefined, userId: principal.user.id}
  // The client's registered scopes, not this token's: the child outlives the token (child-env.ts).
  return {clientId: principal.clientId, clientScopes: principal.clientScopes}
}

/** The session cap of one client: its own setting, else the gateway's, else the default share. */
export function perClientSessionCap(limits: GatewayLimits, isolation: Isolation, own: number | null | undefined): number {
  if (own !== null && own !== undefined) return own
  if (limits.maxSessionsPerClient !== undefined) return limits.maxSessionsPerClient
  const pool = isolation === 'session' ? Math.min(limits.maxSessions, limits.maxChildren ?? DEFAULT_MAX_CHILDREN) : limits.maxSessions
  return Math.max(1, Math.floor(pool / 4))
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000

export function createGateway(options: GatewayOptions): Gateway {
  const {logger, clock, limits, isolation, dataDir} = options
  const requestTimeoutMs = limits.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const parentEnv = options.parentEnv ?? process.env
  if (isolation === 'shared') {
    logger.warn('isolation "shared": every client talks to one MCP server process and shares its state')
  }
  const registry = createChildRegistry({dataDir, logger})
  const sessions = new SessionTable({...limits, nodeId: options.nodeId})
  const multiplexers = new Map<string, Multiplexer>()
  /** Every multiplexer whose child may still be running, in the map or not (stopping, failed). */
  const live = new Set<Multiplexer>()
  const maxChildren = limits.maxChildren ?? DEFAULT_MAX_CHILDREN
  const origins = new WeakMap<Multiplexer, {clientId: string | null; userId: string | null; startedAt: number; restarts: number}>()
  /** Children started per client (or for the shared one), for `restarts`; bounded by the clients seen. */
  const starts = new Map<string, number>()
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
  let childSeq = 0

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

  function spawnFor(key: string, principal: Principal): Multiplexer {
    const identity = childIdentity(isolation, principal)
    let spec: {command: string; args: string[]; env: Record<string, string>}
    let prepare: (() => Promise<void>) | undefined
    if (options.command === undefined) {
      spec = defaultServerSpec(dataDir, identity === undefined ? undefined : identity.userId !== undefined ? {userId: identity.userId} : identity.clientId)
      prepare = async () => void (await mkdir(join(dataDir, 'memory'), {recursive: true, mode: 0o700}))
    } else {
      spec = {...options.command, env: {}}
    }
    const tag = `${identity === undefined ? 'shared' : (identity.userId ?? identity.clientId)}#${++childSeq}`
    const mux = new Multiplexer({
      tag,
      spec: {command: spec.command, args: spec.args, env: childEnv(parentEnv, options.env, identity, spec.env)},
      prepare,
      shared: isolation === 'shared',
      logger,
      clock,
      registry,
      maxLineBytes: limits.maxLineBytes,
      requestTimeoutMs,
      initializeTimeoutMs: Math.min(requestTimeoutMs, limits.initializeTimeoutMs ?? DEFAULT_INITIALIZE_TIMEOUT_MS),
      killGraceMs: limits.killGraceMs,
      discoverTimeoutMs: limits.discoverTimeoutMs,
      onInputRequired: inputRequired.onInputRequired,
      onExit(mux, attached) {
        live.delete(mux)
        if (multiplexers.get(key) === mux) multiplexers.delete(key)
        // The child is gone: its sessions end, and their ids answer 404 from now on.
        endSessions(attached)
      },
    })
    const startKey = isolation === 'shared' ? '' : (identity?.userId ?? principal.clientId)
    const started = starts.get(startKey) ?? 0
    starts.set(startKey, started + 1)
    origins.set(mux, {clientId: identity === undefined || identity.userId !== undefined ? null : principal.clientId, userId: identity?.userId ?? null, startedAt: clock.now(), restarts: isolation === 'session' ? 0 : started})
    return mux
  }

  /** Stops a child that is no longer in the map (idle, revoked, or making room). */
  function retire(key: string, mux: Multiplexer, why: string): void {
    if (multiplexers.get(key) === mux) multiplexers.delete(key)
    logger.info(why, {pid: mux.pid})
    void mux.stop(limits.killGraceMs)
  }

  /** Makes room for one more child under maxChildren by stopping the longest-idle one; false if none is idle. */
  function makeRoomForChild(now: number): boolean {
    let oldest: [string, Multiplexer] | undefined
    for (const entry of multiplexers) {
      const mux = entry[1]
      if (mux.dead || !mux.idleLongerThan(now, 0)) continue
      if (oldest === undefined || mux.idleSince! < oldest[1].idleSince!) oldest = entry
    }
    if (oldest === undefined) return false
    retire(oldest[0], oldest[1], 'stopping an idle child to make room for another')
    return true
  }

  /**
   * The child a new session of this principal goes to, claimed for that session (the idle sweep
   * leaves it alone until the claim is released); started if need be. Undefined when a new child
   * would exceed maxChildren and no idle one can make room.
   */
  function claimChild(principal: Principal, modern = false): {mux: Multiplexer; release: () => void} | undefined {
    if (closing) throw new Error('the gateway is closing')
    // In session isolation every session gets a child of its own: a fresh key each time. 2026
    // requests have no session: in that mode one child serves a client's 2026 requests.
    const key = modern && isolation === 'session' ? `modern:${principal.clientId}` : isolationKey(isolation, principal, () => ++childSeq)
    let mux = multiplexers.get(key)
    if (mux === undefined || mux.dead) {
      let running = 0
      for (const m of multiplexers.values()) if (!m.dead) running++
      if (running >= maxChildren && !makeRoomForChild(clock.now())) return undefined
      mux = spawnFor(key, principal)
      multiplexers.set(key, mux)
      live.add(mux)
      const created = mux
      created.ready.catch(() => {
        if (multiplexers.get(key) === created) multiplexers.delete(key)
      })
    }
    return {mux, release: mux.claim()}
  }

  const retryAfter = (seconds: number) => ({'retry-after': String(seconds)})

  /** Admission of a new session: the caps, then a child; see EndpointDeps.startSession. */
  const startSession: EndpointDeps['startSession'] = async (principal) => {
    const own = options.sessionLimit ? await options.sessionLimit(principal) : null
    const reservation = sessions.reserve(principal.clientId, perClientSessionCap(limits, isolation, own))
    if ('refused' in reservation) {
      if (reservation.refused === 'client') {
        logger.warn('session refused: the client has its share of sessions', {client_id: principal.clientId, limit: reservation.limit})
        return {ok: false, status: 429, message: `Too Many Requests: this client already has ${reservation.limit} sessions; end one (DELETE) or wait`, headers: retryAfter(5)}
      }
      logger.warn('session refused: the gateway has its most sessions', {client_id: principal.clientId, limit: reservation.limit})
      return {ok: false, status: 503, message: 'Service Unavailable: too many sessions; try again later', headers: retryAfter(5)}
    }
    let claimed: ReturnType<typeof claimChild>
    try {
      claimed = claimChild(principal)
    } catch (error) {
      reservation.release()
      throw error
    }
    if (claimed === undefined) {
      reservation.release()
      logger.warn('session refused: the gateway runs its most child processes', {client_id: principal.clientId, limit: maxChildren})
      return {ok: false, status: 503, message: 'Service Unavailable: too many MCP server processes; try again later', headers: retryAfter(5)}
    }
    const {mux, release} = claimed
    return {
      ok: true,
      mux,
      id: reservation.id,
      commit(session) {
        reservation.commit(session)
        release()
      },
      release() {
        reservation.release()
        release()
      },
    }
  }

  /** The (ready) child of a principal's 2026 requests; Refusal 503 when none may be started or it failed. */
  async function childFor(principal: Principal): Promise<Multiplexer> {
    const claimed = claimChild(principal, true)
    if (claimed === undefined) {
      logger.warn('request refused: the gateway runs its most child processes', {client_id: principal.clientId, limit: maxChildren})
      throw new Refusal(503, ErrorCode.InternalError, 'Service Unavailable: too many MCP server processes; try again later', retryAfter(5))
    }
    try {
      await claimed.mux.ready
    } catch (error) {
      throw new Refusal(503, ErrorCode.InternalError, `Service Unavailable: the MCP server is not available: ${(error as Error).message}`, retryAfter(5))
    } finally {
      claimed.release()
    }
    if (claimed.mux.dead) throw new Refusal(503, ErrorCode.InternalError, 'Service Unavailable: the MCP server exited', retryAfter(5))
    return claimed.mux
  }

  const modern = createModernEra({
    scopes: options.scopes,
    resourceMetadataUrl: options.resourceMetadataUrl,
    onRequest: options.onRequest,
    childFor,
    inputRequired,
    clock,
    logger,
    maxUnsentBytes: limits.maxUnsentBytes,
    // A listener is the 2026 counterpart of a session's GET stream: the client's session cap bounds them too.
    async canListen(principal) {
      const own = options.sessionLimit ? await options.sessionLimit(principal) : null
      const cap = perClientSessionCap(limits, isolation, own)
      let n = 0
      for (const l of listeners) if (l.clientId === principal.clientId) n++
      if (n >= cap) throw new Refusal(429, ErrorCode.InternalError, `Too Many Requests: this client already has ${cap} subscriptions/listen streams`, retryAfter(5))
    },
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
    startSession,
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
    for (const [key, mux] of multiplexers) {
      mux.sweep(now)
      const idleFor = isolation === 'session' ? 0 : limits.childIdleTimeoutMs
      // Not while a session is being started on it (item 19), nor with requests in flight.
      if (mux.idleLongerThan(now, idleFor)) retire(key, mux, 'stopping an idle child')
    }
  }

  let checking: Promise<void> | undefined
  /** Ends every session whose latest principal has been revoked; stops children left without sessions. */
  async function checkRevocations(): Promise<void> {
    const revocation = options.verifier.revocation?.bind(options.verifier)
    if (revocation === undefined || closing || (sessions.size === 0 && listeners.size === 0)) return
    const verdicts = new Map<string, Promise<string | undefined>>()
    // 2026 listen streams end like sessions when their token's access is withdrawn.
    for (const l of [...listeners]) {
      let verdict = verdicts.get(l.principal.tokenId)
      if (verdict === undefined) verdicts.set(l.principal.tokenId, (verdict = revocation(l.principal)))
      const why = await verdict
      if (why === undefined || l.ended) continue
      logger.info('subscriptions/listen ended: access revoked', {client_id: l.clientId, reason: why})
      l.end(false)
    }
    const ended: Session[] = []
    for (const s of sessions.all()) {
      const p = s.current
      let verdict = verdicts.get(p.tokenId)
      if (verdict === undefined) verdicts.set(p.tokenId, (verdict = revocation(p)))
      const why = await verdict
      // The session may have moved on to a newer token meanwhile; judge that one next time.
      if (why === undefined || s.closed || s.current !== p) continue
      logger.info('session ended: access revoked', {client_id: s.clientId, session: s.id.slice(0, 8), reason: why})
      sessions.end(s)
      ended.push(s)
    }
    if (isolation === 'shared') return
    for (const s of ended) {
      for (const [key, mux] of multiplexers) {
        if (mux === s.host && mux.sessions.size === 0 && mux.idleLongerThan(clock.now(), 0)) retire(key, mux, 'stopping the child of revoked access')
      }
    }
  }
  const runRevocationCheck = () => {
    checking ??= checkRevocations()
      .catch((error: Error) => logger.warn('revocation check failed', {error: error.message}))
      .finally(() => (checking = undefined))
  }

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
        res.writeHead(503, {'content-type': 'application/json', 'retry-after': '1'})
        res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"the gateway is shutting down"}}')
        return
      }
      try {
        await endpoint(req, res, log)
      } catch (error) {
        if (error instanceof StoreUnavailableError && !res.headersSent) {
          // The shared database is away: a refusal with Retry-After, never a 5xx (issue 14).
          res.writeHead(429, {'content-type': 'application/json', 'retry-after': String(STORE_RETRY_AFTER_SECONDS)})
          res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"The store is unavailable; retry later"}}')
          return
        }
        logger.error('MCP endpoint failed', {error: error instanceof Error ? error.message : String(error)})
        if (!res.headersSent) {
          res.writeHead(500, {'content-type': 'application/json'})
          res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}')
        } else res.end()
      }
    },
    protectedResourceMetadata: metadata,
    stats: () => ({sessions: sessions.size, children: [...multiplexers.values()].filter((m) => !m.dead).length}),
    // Every child process still running: in use, starting, failed and being stopped.
    childPids: () => [...live].flatMap((m) => (m.pid !== undefined && m.running ? [m.pid] : [])),
    async checkRevocations() {
      runRevocationCheck()
      await checking
    },
    snapshot: () => ({
      sessions: sessions.all().map((s) => ({clientId: s.clientId})),
      children: [...multiplexers.values()].flatMap((m) => {
        const origin = origins.get(m)
        return m.pid !== undefined && !m.dead && origin ? [{pid: m.pid, ...origin, stderr: m.stderrTail}] : []
      }),
    }),
    async close() {
      if (closing) return
      closing = true
      clearInterval(timer)
      clearInterval(revocationTimer)
      endSessions(sessions.all())
      for (const l of [...listeners]) l.end(true)
      // Every child, whatever its state (starting, initializing, in use, failed, already being
      // stopped): SIGTERM, SIGKILL after killGraceMs (child-process.ts bounds the wait).
      const all = [...live]
      multiplexers.clear()
      await Promise.all(all.map((m) => m.stop(limits.killGraceMs)))
      await registry.flush()
    },
  }
}
