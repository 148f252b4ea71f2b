/**
 * The gateway: the MCP resource server in front of a local stdio MCP server. Composes the bearer
 * check, the MCP endpoint, the session table and the child supervisors (one per OAuth client,
 * per session, or one for all, by isolation mode), and reaps children a previous daemon left.
 */
import {mkdir} from 'node:fs/promises'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {join} from 'node:path'
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import {createBearerCheck} from './bearer.js'
import {childEnv} from './child-env.js'
import {createChildRegistry} from './child-registry.js'
import {defaultServerSpec} from './default-server.js'
import {createMcpEndpoint, type EndpointDeps} from './mcp-endpoint.js'
import type {ScopeGuard} from './scope-guard.js'
import {Multiplexer} from './multiplexer.js'
import type {Principal, TokenVerifier} from './principal.js'
import {reapLeftoverChildren} from './reaper.js'
import {protectedResourceMetadata, type ResourceView} from './resource-metadata.js'
import type {Session} from './session.js'
import {SessionTable} from './sessions.js'

export type Isolation = 'client' | 'session' | 'shared'

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
  /** How often idle sessions, idle children and overdue requests are swept; default 1 s. */
  sweepIntervalMs?: number
}

export interface GatewayOptions {
  verifier: TokenVerifier
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
  const sessions = new SessionTable(limits)
  const multiplexers = new Map<string, Multiplexer>()
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
    const identity = isolation === 'shared' ? undefined : {clientId: principal.clientId, scopes: principal.scopes}
    let spec: {command: string; args: string[]; env: Record<string, string>}
    let prepare: (() => Promise<void>) | undefined
    if (options.command === undefined) {
      spec = defaultServerSpec(dataDir, identity?.clientId)
      prepare = async () => void (await mkdir(join(dataDir, 'memory'), {recursive: true, mode: 0o700}))
    } else {
      spec = {...options.command, env: {}}
    }
    const tag = `${isolation === 'shared' ? 'shared' : principal.clientId}#${++childSeq}`
    return new Multiplexer({
      tag,
      spec: {command: spec.command, args: spec.args, env: childEnv(parentEnv, options.env, identity, spec.env)},
      prepare,
      shared: isolation === 'shared',
      logger,
      clock,
      registry,
      maxLineBytes: limits.maxLineBytes,
      requestTimeoutMs,
      onExit(mux, attached) {
        if (multiplexers.get(key) === mux) multiplexers.delete(key)
        // The child is gone: its sessions end, and their ids answer 404 from now on.
        endSessions(attached)
      },
    })
  }

  function multiplexerFor(principal: Principal): Multiplexer {
    if (closing) throw new Error('the gateway is closing')
    // In session isolation every session gets a child of its own: a fresh key each time.
    const key = isolation === 'client' ? `client:${principal.clientId}` : isolation === 'shared' ? 'shared' : `session:${++childSeq}`
    let mux = multiplexers.get(key)
    if (mux === undefined || mux.dead) {
      mux = spawnFor(key, principal)
      multiplexers.set(key, mux)
      const created = mux
      created.ready.catch(() => {
        if (multiplexers.get(key) === created) multiplexers.delete(key)
      })
    }
    return mux
  }

  const endpoint = createMcpEndpoint({
    checkBearer: createBearerCheck({
      verifier: options.verifier,
      resource: options.resource,
      resourceMetadataUrl: options.viewFor ? (req) => options.viewFor!(req).resourceMetadataUrl : options.resourceMetadataUrl,
      now: () => clock.now(),
    }),
    sessions,
    multiplexerFor,
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
    for (const s of sessions.idle(now)) {
      logger.info('session expired', {client_id: s.clientId, session: s.id.slice(0, 8)})
      sessions.end(s)
    }
    for (const [key, mux] of multiplexers) {
      mux.sweep(now)
      const idleFor = isolation === 'session' ? 0 : limits.childIdleTimeoutMs
      if (mux.sessions.size === 0 && mux.idleSince !== undefined && now - mux.idleSince >= idleFor && mux.pendingCount === 0) {
        multiplexers.delete(key)
        logger.info('stopping an idle child', {pid: mux.pid})
        void mux.stop(limits.killGraceMs)
      }
    }
  }

  const timer = setInterval(sweep, limits.sweepIntervalMs ?? 1000)
  timer.unref()
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
        logger.error('MCP endpoint failed', {error: error instanceof Error ? error.message : String(error)})
        if (!res.headersSent) {
          res.writeHead(500, {'content-type': 'application/json'})
          res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}')
        } else res.end()
      }
    },
    protectedResourceMetadata: metadata,
    stats: () => ({sessions: sessions.size, children: [...multiplexers.values()].filter((m) => !m.dead).length}),
    childPids: () => [...multiplexers.values()].flatMap((m) => (m.pid !== undefined && !m.dead ? [m.pid] : [])),
    async close() {
      if (closing) return
      closing = true
      clearInterval(timer)
      endSessions(sessions.all())
      const all = [...multiplexers.values()]
      multiplexers.clear()
      await Promise.all(all.map((m) => m.stop(limits.killGraceMs)))
      await registry.flush()
    },
  }
}
