import {hkdfSync} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {readKeyEncryptionKey} from './secrets/sealed-vault.js'
import {hostname} from 'node:os'
import type {Server} from 'node:http'
import {systemClock, type Clock} from './clock.js'
import {issuerString, issuerViews, resolveIssuer} from './config/issuer.js'
import {GatehouseError} from './errors.js'
import {createApp} from './http/app.js'
import {createHostGuard, createOriginPolicy, isLoopbackAddress} from './http/guards.js'
import {defaultHttpLimits, listen, type HttpLimits, type RequestListener} from './http/listen.js'
import {NO_STORE, sendJson} from './http/respond.js'
import {createRouter, type Handler, type Route} from './http/router.js'
import {createGateway, type GatewayLimits, type Isolation} from './gateway/gateway.js'
import {createScopeGuard} from './gateway/scope-guard.js'
import {resourceView, slashSuffixed} from './gateway/resource-metadata.js'
import {createLogger, type Logger} from './log.js'
import {createAuditLog} from './audit/audit-log.js'
import {openPolicy} from './policy/policy.js'
import {createRequestLimiter} from './oauth/request-limiter.js'
import {createClientAuthenticator} from './oauth/client-auth.js'
import {createClientDirectory} from './oauth/client-directory.js'
import {clientCredentialsGrant} from './oauth/grants/client-credentials.js'
import {createInfoEndpoint} from './oauth/info-endpoint.js'
import {createIntrospectionEndpoint} from './oauth/introspection-endpoint.js'
import {pruneSigningKeys, rotateSigningKey} from './oauth/keys/generate.js'
import {openKeyStorage} from './oauth/keys/key-vaults.js'
import {createHealthCheck} from './http/health.js'
import {loadKeyring} from './oauth/keys/keyring.js'
import {authorizationServerMetadata, endpointUrls} from './oauth/metadata.js'
import {createAuthFailureLimiter, createMemoryBudgets, type BucketLimit} from './oauth/rate-limit.js'
import {createSharedBudgets} from './oauth/shared-budgets.js'
import {createResourceResolver} from './oauth/resource.js'
import {createRevocationEndpoint} from './oauth/revocation-endpoint.js'
import {loadRevocationList} from './oauth/revocation-list.js'
import {createTokenEndpoint} from './oauth/token-endpoint.js'
import {createTokenVerifier, reportingRefusals} from './oauth/token-verifier.js'
import {createInteractiveAuthorization, type InteractiveOptions} from './oauth/authorize/interactive.js'
import {createUsageRecorder} from './oauth/usage-recorder.js'
import {createClientAdmin, DEFAULT_SCOPES} from './clients/admin.js'
import {openStore, type PostgresOptions} from './store/open-store.js'
import {loadUserDirectory} from './users/user-directory.js'
import {createActivityTracker} from './daemon/activity.js'
import {acquireDaemonLock} from './daemon/daemon-lock.js'
import {packageVersion, publishDaemon} from './daemon/publish.js'
import {NODE_GONE_AFTER_MS, startHeartbeat} from './daemon/heartbeat.js'
import {createRetryForwarder} from './gateway/retry-forward.js'
import {watchStoreHealth} from './daemon/store-health.js'
import {checkNodeId, newNodeId} from './daemon/node-id.js'
import {rememberWarnings} from './daemon/recent-warnings.js'
import {buildStatusReport, type StatusReport} from './daemon/status-report.js'
import type {RuntimeRecord} from './daemon/runtime-record.js'
import {createConsole, consolePath} from './console/console.js'
import {userConsoleLogin} from './console/console-login.js'
import {createUserAdmin} from './users/user-admin.js'
import {createConsentAdmin} from './owner/consents.js'

export interface ServerOptions {
  dataDir: string
  /** postgres://...: several daemons on one PostgreSQL (src/store/open-store.ts); unset: SQLite in dataDir. */
  databaseUrl?: string | undefined
  postgres?: PostgresOptions | undefined
  /** File with the base64 key that seals signing keys in a shared database (required with databaseUrl). */
  keyEncryptionKeyFile?: string | undefined
  host?: string
  port?: number
  issuer?: string
  tls?: {certFile: string; keyFile: string}
  allowedOrigins?: string[]
  logger?: Logger
  clock?: Clock
  http?: Partial<HttpLimits>
  /** Largest body of an OAuth request, bytes. */
  maxOAuthBodyBytes?: number
  /** Failed client authentication budgets. */
  authFailures?: {perClient: BucketLimit; perAddress: BucketLimit}
  /** How often expired revocations, assertions and keys are cleaned up, ms. */
  maintenanceIntervalMs?: number
  /** Whether to try the OS keychain for signing keys (default: yes). */
  useKeychain?: boolean
  /** Scope policy file (JSON or YAML), reloaded on change. */
  policyFile?: string
  /** Requests per minute per client, server-wide; a client's own setting wins. Off when unset. */
  tokenRateLimit?: number | null
  mcpRateLimit?: number | null
  /** Days the audit trail is kept (default 30). */
  auditRetentionDays?: number
  /** The stdio MCP server to gate; undefined: the bundled memory server. */
  command?: {command: string; args: string[]}
  isolation?: Isolation
  /** This node's name (--node-id): MCP session ids start with it; default random per start. */
  nodeId?: string | undefined
  /**
   * The base URL other nodes reach this one at (--node-url), advertised in its heartbeat row: a
   * multi round-trip retry that reaches another node is forwarded here. Default: where it
   * listens, with the machine's host name when it listens on every address (0.0.0.0, ::).
   */
  nodeUrl?: string | undefined
  /** KEY=VALUE pairs passed to children. */
  childEnv?: Record<string, string>
  gateway?: Partial<GatewayLimits>
  /** Authorization code + PKCE, refresh tokens, registration, metadata documents (src/oauth/authorize/interactive.ts). */
  interactive?: InteractiveOptions
  /** The owner's console (src/console/): where it lives (default /console), or false for none. */
  console?: {path?: string; pollMs?: number} | false
}

export interface RunningServer {
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  url: string
  issuer: string
  port: number
  /** Where new signing keys are kept, and the notice when that is the fallback file. */
  keyStorage: {kind: 'keychain' | 'file' | 'database'; location: string; notice: string | null}
  httpServer: Server
  /** Which store it uses, for people (src/store/types.ts describe()). */
  store: string
  /** This daemon's node id (heartbeat row, MCP session ids). */
  nodeId: string
  close(): Promise<void>
}

export const defaultGatewayLimits: GatewayLimits = {
  maxSessions: 1000,
  sessionIdleTimeoutMs: 30 * 60_000,
  childIdleTimeoutMs: 5 * 60_000,
  maxLineBytes: 16 * 1024 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
  replayBufferEvents: 256,
  killGraceMs: 3000,
  requestTimeoutMs: 5 * 60_000,
}

export const defaults = {
  host: '127.0.0.1',
  port: 8080,
  maxOAuthBodyBytes: 64 * 1024,
  authFailures: {perClient: {burst: 10, perMinute: 10}, perAddress: {burst: 30, perMinute: 30}},
  maintenanceIntervalMs: 10 * 60_000,
}

/**
 * The composition root: builds the store, keys, authorization server and HTTP app, listens, and
 * returns a handle to stop it all. Nothing is global; everything is passed in.
 */
export async function createServer(options: ServerOptions): Promise<RunningServer> {
  const clock = options.clock ?? systemClock
  // The last warnings are kept for `gatehouse status`.
  const logger = rememberWarnings(options.logger ?? createLogger())
  const startedAt = clock.now()
  const host = options.host ?? defaults.host
  const limits = {...defaultHttpLimits, ...options.http}
  const nodeId = options.nodeId !== undefined ? checkNodeId(options.nodeId) : newNodeId()
  if (options.nodeUrl !== undefined && !/^https?:$/.test(URL.parse(options.nodeUrl)?.protocol ?? '')) {
    throw new GatehouseError('INVALID_INPUT', `--node-url must be an http:// or https:// URL (got ${JSON.stringify(options.nodeUrl.slice(0, 100))})`)
  }
  const tls = options.tls ? {cert: readTlsFile(options.tls.certFile, 'certificate'), key: readTlsFile(options.tls.keyFile, 'key')} : undefined

  // One daemon per data dir: a second one stops here, naming the first (src/daemon/daemon-lock.ts).
  const lock = await acquireDaemonLock(options.dataDir)
  const cleanup: Array<() => Promise<void> | void> = [() => lock.release()]
  let store: Awaited<ReturnType<typeof openStore>>
  try {
    store = await openStore({dataDir: options.dataDir, databaseUrl: options.databaseUrl, postgres: options.postgres, keyEncryptionKeyFile: options.keyEncryptionKeyFile, clock})
  } catch (error) {
    lock.release()
    throw error
  }
  cleanup.unshift(() => store.close())
  try {
    const {vaults, preferred, describe: keyStorage} = await openKeyStorage({
      store,
      dataDir: options.dataDir,
      shared: Boolean(options.databaseUrl),
      keyEncryptionKeyFile: options.keyEncryptionKeyFile,
      useKeychain: options.useKeychain,
    })
    if ((await store.signingKeys.list()).every((k) => k.retiredAt !== null)) {
      await rotateSigningKey({store, vault: preferred, clock})
    }
    const keyring = await loadKeyring({store, vaults, clock})

    // Listen first: with --port 0 the issuer (and every URL) needs the real port.
    let dispatch: RequestListener = (_req, res) => res.writeHead(503).end()
    const {server, port} = await listen((req, res) => dispatch(req, res), {host, port: options.port ?? defaults.port, tls, limits})
    cleanup.unshift(() => closeHttp(server))
    const issuerUrl = resolveIssuer({issuer: options.issuer, host, port, tls: Boolean(tls)})
    const issuer = issuerString(issuerUrl)
    const urls = endpointUrls(issuer)
    const resource = `${issuer}/mcp`
    // Every loopback name that reaches this listener, when no --issuer was given (config/issuer.ts).
    const views = issuerViews({issuerUrl, explicit: Boolean(options.issuer), host})
    const resources = views.all.map((i) => `${i}/mcp`)

    const audit = createAuditLog({store, clock, logger, retentionDays: options.auditRetentionDays})
    cleanup.unshift(() => audit.close())
    // The YAML parser loads only when there is a policy file to read.
    const policy = options.policyFile ? (await import('./policy/policy-file.js')).loadPolicyFile(options.policyFile, {logger}) : undefined
    if (policy) cleanup.unshift(() => policy.close())
    const requestLimiter = createRequestLimiter(clock)
    const clients = createClientDirectory(store)
    const revocations = await loadRevocationList({store, clock})
    const usage = createUsageRecorder({store, clock, logger})
    cleanup.unshift(() => usage.close())
    // Failure budgets: in the store when nodes share it (one budget for all), else in memory (faster; docs/DESIGN.md).
    const shared = Boolean(options.databaseUrl)
    const sharedBudgets = shared ? createSharedBudgets({store, clock}) : undefined
    if (sharedBudgets) cleanup.unshift(() => sharedBudgets.close())
    const budgets = sharedBudgets ?? createMemoryBudgets(clock)
    const limiter = createAuthFailureLimiter({...(options.authFailures ?? defaults.authFailures), budgets, clock})
    const authenticate = createClientAuthenticator({clients, limiter, usage, store, clock, assertionAudiences: views.all.flatMap((i) => [endpointUrls(i).token, i])})
    const resolveResource = createResourceResolver(resources)
    const activity = createActivityTracker({clock})
    const maxBodyBytes = options.maxOAuthBodyBytes ?? defaults.maxOAuthBodyBytes

    const currentPolicy = () => policy?.current() ?? openPolicy
    const supportedScopes = () => [...new Set([...DEFAULT_SCOPES, ...currentPolicy().scopes()])]
    const interactive = await createInteractiveAuthorization({
      options: options.interactive ?? {},
      issuer,
      issuerUrl,
      host,
      store,
      clients,
      clock,
      keyring,
      resolveResource,
      scopes: supportedScopes,
      maxBodyBytes,
      budgets,
      shared,
      logger,
    })
    cleanup.unshift(() => interactive.close())
    const {revokedGrants} = interactive
    const users = await loadUserDirectory({store})
    cleanup.unshift(async () => users.close())
    const verifier = createTokenVerifier({issuer, audiences: resources, keyring, clients, revocations, clock, revokedGrants, users})

    const grants = [clientCredentialsGrant({issuer, keyring, clock, resolveResource}), ...interactive.grants]
    // One document per served name (RFC 8414 §3.3: `issuer` is the URL the client used). The
    // browser flow stays on the canonical authorization endpoint, where its cookies and form live.
    const buildMetadata = (view: string) =>
      authorizationServerMetadata({
        urls: {...endpointUrls(view), ...interactive.urls, ...(interactive.urls.registration ? {registration: `${view}/oauth/register`} : {})},
        grantTypes: grants.map((g) => g.type),
        scopes: supportedScopes(),
        authMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', ...interactive.authMethods],
        extra: interactive.metadata,
      })
    const buildAll = () => new Map(views.all.map((v) => [v, buildMetadata(v)]))
    let metadata = buildAll()
    policy?.onChange(() => (metadata = buildAll()))
    const tokenEndpoint = createTokenEndpoint({grants, authenticate, maxBodyBytes, audit, limiter: requestLimiter, defaultRateLimit: options.tokenRateLimit ?? null})

    const routes: Route[] = [
      // For the load balancer: 200 when the store answers and a signing key is loaded, else 503; no detail.
      {method: 'GET', path: '/healthz', cors: 'public', handler: createHealthCheck({store, keyring})},
      {method: 'GET', path: '/.well-known/oauth-authorization-server', cors: 'public', handler: (req, res) => sendJson(res, 200, metadata.get(views.forHost(req.headers.host))!, {'Cache-Control': 'public, max-age=60', Vary: 'Host'})},
      {
        method: 'GET',
        path: '/.well-known/jwks.json',
        cors: 'public',
        handler: async (_q, res) => {
          await keyring.refresh()
          sendJson(res, 200, keyring.jwks(), {'Cache-Control': 'public, max-age=60'})
        },
      },
      {method: 'POST', path: '/oauth/token', cors: 'public', handler: tokenEndpoint},
      // Clients that ignore the metadata and fall back to /token at the origin (MCP 2025-03-26 defaults).
      {method: 'POST', path: '/token', cors: 'public', handler: tokenEndpoint},
      {method: 'POST', path: '/oauth/introspect', cors: 'public', handler: createIntrospectionEndpoint({authenticate, verifier, issuer, maxBodyBytes})},
      {method: 'POST', path: '/oauth/revoke', cors: 'public', handler: createRevocationEndpoint({authenticate, verifier, revocations, maxBodyBytes, audit, extraRevokers: interactive.revokers})},
      {method: 'GET', path: '/oauth/info', cors: 'public', handler: createInfoEndpoint({verifier})},
      ...interactive.routes,
    ]
    const gatewayLimits = {...defaultGatewayLimits, ...options.gateway}
    const gateway = createGateway({
      nodeId,
      // Several nodes: a multi round-trip retry that reaches this node while another holds its
      // request is forwarded there, at the URL that node advertises in its heartbeat row.
      ...(shared
        ? {
            forwardRetry: createRetryForwarder({
              selfId: nodeId,
              nodeUrl: async (id) => (await store.nodes.live(clock.now() - NODE_GONE_AFTER_MS)).find((n) => n.id === id && n.id !== nodeId)?.url,
              logger,
              timeoutMs: gatewayLimits.requestTimeoutMs ?? 5 * 60_000,
            }),
          }
        : {}),
      // Several nodes: one requestState key for all (a multi round-trip request may be resumed on
      // another node), derived from the key-encryption key every node is given (HKDF, RFC 5869;
      // its own label, so it is never the key that seals the signing keys). One node: random.
      ...(options.databaseUrl && options.keyEncryptionKeyFile
        ? {requestStateKey: new Uint8Array(hkdfSync('sha256', readKeyEncryptionKey(options.keyEncryptionKeyFile), 'gatehouse', 'gatehouse requestState v1', 32))}
        : {}),
      // A token refused at /mcp (401 invalid_token) is audited, naming its client when it verified.
      verifier: reportingRefusals(verifier, ({clientId, reason, outcome}) =>
        audit.record({event: 'token.refused', clientId, method: 'bearer', outcome, detail: {endpoint: '/mcp', reason}}),
      ),
      resource: resources,
      viewFor: (req) => resourceView(views.forHost(req.headers.host), slashSuffixed(req.url)),
      resourceMetadataUrl: `${issuer}/.well-known/oauth-protected-resource/mcp`,
      authorizationServers: [issuer],
      scopesSupported: () => supportedScopes(),
      scopes: policy ? createScopeGuard(currentPolicy) : undefined,
      admit: async (principal) => {
        const client = await clients.get(principal.clientId)
        return requestLimiter.take(principal.clientId, client?.mcpRateLimit ?? options.mcpRateLimit ?? null)
      },
      sessionLimit: async (principal) => (await clients.get(principal.clientId))?.maxSessions ?? null,
      onRequest: (e) => {
        activity.record(e.principal.clientId, e.outcome !== 'ok')
        audit.record({
          event: 'mcp.request',
          clientId: e.principal.clientId,
          subject: e.principal.subject,
          sessionId: e.sessionId,
          ...(e.principal.user ? {detail: {user: e.principal.user.name}} : {}),
          method: e.method,
          name: e.name,
          outcome: e.outcome,
          durationMs: e.durationMs,
        })
      },
      command: options.command,
      dataDir: options.dataDir,
      isolation: options.isolation ?? 'client',
      env: options.childEnv ?? {},
      limits: gatewayLimits,
      logger,
      clock,
    })
    cleanup.unshift(() => gateway.close())
    await gateway.ready
    // The access log's client id is filled in by the gateway's bearer check.
    const mcp: Handler = (req, res, ctx) => gateway.handle(req, res, ctx)
    const resourceMetadata: Handler = (req, res) => sendJson(res, 200, gateway.protectedResourceMetadata(req), {'Cache-Control': 'public, max-age=60', Vary: 'Host'})
    routes.push(
      {method: 'POST', path: '/mcp', cors: 'restricted', handler: mcp},
      {method: 'GET', path: '/mcp', cors: 'restricted', handler: mcp},
      {method: 'DELETE', path: '/mcp', cors: 'restricted', handler: mcp},
      // `/mcp/` is the same endpoint: clients that add the slash get the same challenge and discovery.
      {method: 'POST', path: '/mcp/', cors: 'restricted', handler: mcp},
      {method: 'GET', path: '/mcp/', cors: 'restricted', handler: mcp},
      {method: 'DELETE', path: '/mcp/', cors: 'restricted', handler: mcp},
      {method: 'GET', path: '/.well-known/oauth-protected-resource/mcp', cors: 'public', handler: resourceMetadata},
      {method: 'GET', path: '/.well-known/oauth-protected-resource/mcp/', cors: 'public', handler: resourceMetadata},
      {method: 'GET', path: '/.well-known/oauth-protected-resource', cors: 'public', handler: resourceMetadata},
    )

    // The owner's console, behind the consent page's login (src/console/console.ts).
    let statusFor: (() => Promise<StatusReport>) | undefined
    if (options.console !== false) {
      const consoleApp = createConsole({
        base: consolePath(options.console?.path ?? '/console'),
        issuer,
        login: userConsoleLogin(interactive.ownerLogin, interactive.upstream),
        store,
        clock,
        logger,
        admin: createClientAdmin({store, clock}),
        consents: createConsentAdmin({store, clock}),
        users: createUserAdmin({store, clock}),
        gateway,
        status: () => statusFor!(),
        maxBodyBytes: Math.min(maxBodyBytes, 16 * 1024),
        pollMs: options.console?.pollMs,
      })
      routes.push(...consoleApp.routes)
      cleanup.unshift(() => consoleApp.close())
    }

    const app = createApp({
      router: createRouter(routes),
      logger,
      hostGuard: createHostGuard({boundToLoopback: isLoopbackAddress(host), port, issuer: issuerUrl}),
      origins: createOriginPolicy({issuer: issuerUrl, allowedOrigins: options.allowedOrigins ?? []}),
      tls: Boolean(tls),
      issuerPath: issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/+$/, ''),
      bodies: bodyBounds(limits, Math.max(maxBodyBytes, options.gateway?.maxBodyBytes ?? defaultGatewayLimits.maxBodyBytes)),
    })
    dispatch = (req, res) => void app(req, res)

    const maintenance = setInterval(() => {
      void (async () => {
        try {
          await revocations.prune()
          if (shared) await store.budgets.prune(clock.now(), clock.now() - 30 * 86_400_000)
          await audit.prune()
          await pruneSigningKeys({store, vaults, clock})
          await interactive.maintain()
        } catch (error) {
          logger.warn('maintenance failed', {error: (error as Error).message})
        }
      })()
    }, options.maintenanceIntervalMs ?? defaults.maintenanceIntervalMs)
    maintenance.unref()
    cleanup.unshift(() => clearInterval(maintenance))

    const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
    // Whether the store answers, for `gatehouse status` (src/daemon/store-health.ts).
    const storeHealth = watchStoreHealth({store, clock, logger})
    cleanup.unshift(() => storeHealth.close())
    // This node's heartbeat row: `gatehouse status` lists the live nodes on the store.
    const advertised = options.nodeUrl ?? (host === '0.0.0.0' || host === '::' ? `${tls ? 'https' : 'http'}://${hostname()}:${port}` : url)
    const heartbeat = await startHeartbeat({store, clock, logger, node: {id: nodeId, url: advertised, host: hostname(), pid: process.pid, version: packageVersion(), startedAt}})
    cleanup.unshift(() => heartbeat.close())
    // The runtime record and the owner-only status socket (src/daemon/publish.ts); removed first on close.
    const published = await publishDaemon({
      dataDir: options.dataDir,
      issuer,
      url,
      host,
      port,
      startedAt,
      store: store.describe(),
      logger,
      report: (record) => statusReport(record),
    })
    cleanup.unshift(() => published.close())
    statusFor = () => statusReport(published.record)
    function statusReport(record: RuntimeRecord) {
      return buildStatusReport({
          record,
          clock,
          store: store.describe(),
          storeHealth,
          activeKid: () => keyring.signer()?.kid ?? null,
          node: nodeId,
          nodes: () => heartbeat.live(),
          keyStorage,
          signingKeys: () => store.signingKeys.list(),
          client: (id) => clients.get(id),
          gateway,
        activity,
        audit: () => audit.backlog(),
        warnings: () => logger.recent(),
        users: () => store.users.list(),
      })
    }

    let closing: Promise<void> | undefined
    return {
      url,
      issuer,
      port,
      keyStorage,
      store: store.describe(),
      nodeId,
      httpServer: server,
      close: () => (closing ??= runAll(cleanup)),
    }
  } catch (error) {
    await runAll(cleanup)
    throw error
  }
}

/** Body bounds that always let one body of the largest allowed size through. */
function bodyBounds(limits: HttpLimits, largestBody: number): HttpLimits {
  const perClient = Math.max(limits.maxBodyBytesInFlightPerClient, largestBody)
  return {...limits, maxBodyBytesInFlightPerClient: perClient, maxBodyBytesInFlight: Math.max(limits.maxBodyBytesInFlight, perClient)}
}

async function runAll(steps: Array<() => Promise<void> | void>): Promise<void> {
  for (const step of steps) {
    try {
      await step()
    } catch {
      // keep stopping the rest
    }
  }
}

/** Stops accepting, lets requests in flight finish briefly, then cuts what is left. */
async function closeHttp(server: Server, graceMs = 2000): Promise<void> {
  const done = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const timer = setTimeout(() => server.closeAllConnections(), graceMs)
  await done
  clearTimeout(timer)
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new GatehouseError('CONFIG', `cannot read the TLS ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}
