import type {Dispatcher} from 'undici'
import type {Clock} from '../../clock.js'
import {GatehouseError} from '../../errors.js'
import {isLoopbackAddress} from '../../http/guards.js'
import type {Route} from '../../http/router.js'
import type {ClientRecord, Store} from '../../store/types.js'
import type {ClientDirectory} from '../client-directory.js'
import {authorizationCodeGrant} from '../grants/authorization-code.js'
import type {Grant} from '../grants/grant.js'
import {refreshTokenGrant, refreshTokenRevoker, REFRESH_GRACE_MS} from '../grants/refresh-token.js'
import {loadRevokedGrants} from '../grants/revoked-grants.js'
import type {Keyring} from '../keys/keyring.js'
import {createOwnerLoginGuard, ownerLoginDefaults, type OwnerLoginLimits} from '../../owner/login-guard.js'
import {createOwnerLogin} from '../../owner/owner-login.js'
import {createBuckets, type BucketLimit, type Budgets} from '../rate-limit.js'
import {createRegistrationEndpoint} from '../registration/register-endpoint.js'
import type {ResourceResolver} from '../resource.js'
import {createAuthorizationEndpoint} from './authorize-endpoint.js'
import {createClientResolver} from './client-resolver.js'
import {createCodeIssuer} from './code-issuer.js'
import {deviceCookie, sessionCookie} from './cookies.js'
import {createSessionStore, type SessionLimits} from './sessions.js'
import {createSharedSessionStore} from './shared-sessions.js'
import {ACCOUNT_PATH, ACCOUNT_UPSTREAM_PATH, createAccountPage} from './account-page.js'
import {createPasswordLogin} from '../../users/password-login.js'
import {createUpstreamLogin, UPSTREAM_CALLBACK_PATH, UPSTREAM_START_PATH, type UpstreamOptions} from '../../users/oidc/upstream-login.js'
import type {Logger} from '../../log.js'

export interface InteractiveOptions {
  /** Development only: approve every valid request without the owner (loopback issuer and bind only). */
  autoApprove?: boolean
  /** Dynamic client registration at /oauth/register (default on). */
  registration?: boolean
  /** https client_ids resolved through client ID metadata documents (default on). */
  metadataDocuments?: boolean
  /** Development only: let metadata documents live on loopback or private addresses. */
  allowPrivateMetadataHosts?: boolean
  /** See src/oauth/grants/refresh-token.ts. */
  refreshGraceMs?: number
  /** Registrations allowed per remote address. */
  registrationLimit?: BucketLimit
  maxRegisteredClients?: number
  /** A self-registered client never used is revoked after this long; one used, after this long idle. */
  registeredNeverUsedMs?: number
  registeredIdleMs?: number
  metadataDocumentTimeoutMs?: number
  metadataDocumentMaxBytes?: number
  /** Extra CA certificates for metadata-document fetches (tests; the daemon honours NODE_EXTRA_CA_CERTS). */
  metadataDocumentCa?: string
  /** Budgets for the owner's password on the consent page (src/owner/login-guard.ts). */
  ownerLogin?: Partial<OwnerLoginLimits>
  /** Bounds of the in-memory browser sessions (src/oauth/authorize/sessions.ts). */
  browserSessions?: Partial<SessionLimits>
  /** Sign-in through an upstream OpenID Connect provider (src/users/oidc/upstream-login.ts). */
  upstream?: UpstreamOptions
}

export const interactiveDefaults = {
  registrationLimit: {burst: 20, perMinute: 2},
  maxRegisteredClients: 1000,
  registeredNeverUsedMs: 24 * 3600_000,
  registeredIdleMs: 90 * 86_400_000,
}

/**
 * Interactive authorization (authorization code + PKCE, refresh tokens, registration, metadata
 * documents), assembled for the composition root: its grants, routes, metadata and upkeep.
 */
export async function createInteractiveAuthorization({
  options,
  issuer,
  issuerUrl,
  host,
  store,
  clients,
  clock,
  keyring,
  resolveResource,
  scopes,
  maxBodyBytes,
  budgets,
  shared = false,
  logger,
}: {
  options: InteractiveOptions
  issuer: string
  issuerUrl: URL
  host: string
  store: Store
  clients: ClientDirectory
  clock: Clock
  keyring: Keyring
  resolveResource: ResourceResolver
  /** Scopes this server offers; a function, as a policy reload changes them. */
  scopes: () => readonly string[]
  maxBodyBytes: number
  /** Failure budgets (owner logins): the store's when nodes share it (src/oauth/shared-budgets.ts). */
  budgets?: Budgets
  /** Nodes share the store: browser sessions and parked requests live in it (shared-sessions.ts). */
  shared?: boolean
  logger: Logger
}) {
  const autoApprove = options.autoApprove ?? false
  if (autoApprove && !(isLoopbackAddress(issuerUrl.hostname) && isLoopbackAddress(host))) {
    throw new GatehouseError('CONFIG', '--auto-approve is for loopback-only development: it needs a loopback --host and issuer, never a public one')
  }
  const registration = options.registration ?? true
  const metadataDocuments = options.metadataDocuments ?? true
  const revokedGrants = await loadRevokedGrants({store, clock})
  const grantDeps = {store, issuer, keyring, clock, resolveResource}
  const grants: Grant[] = [authorizationCodeGrant(grantDeps), refreshTokenGrant({...grantDeps, graceMs: options.refreshGraceMs ?? REFRESH_GRACE_MS})]

  // Metadata documents need undici (about 20 MB resident): loaded on the first https client_id,
  // not at start, so a daemon that never sees one stays small.
  let agent: Dispatcher | undefined
  let loading: Promise<{resolve(url: string, context: {remoteAddress: string}): Promise<ClientRecord>}> | undefined
  // One per-address registration budget and one cap for both ways a client registers itself.
  const registrations = createBuckets(options.registrationLimit ?? interactiveDefaults.registrationLimit, clock)
  const maxRegisteredClients = options.maxRegisteredClients ?? interactiveDefaults.maxRegisteredClients
  const loadDocuments = async () => {
    const [{createMetadataDocumentClients}, {createGuardedAgent}] = await Promise.all([
      import('../metadata-document/metadata-document-clients.js'),
      import('../metadata-document/guarded-agent.js'),
    ])
    return createMetadataDocumentClients({
      store,
      clients,
      clock,
      supportedScopes: scopes,
      registrations,
      maxClients: maxRegisteredClients,
      dispatcher: (agent = createGuardedAgent({
        allowNonPublic: options.allowPrivateMetadataHosts ?? false,
        connectTimeoutMs: options.metadataDocumentTimeoutMs ?? 5000,
        headersTimeoutMs: options.metadataDocumentTimeoutMs ?? 5000,
        bodyTimeoutMs: options.metadataDocumentTimeoutMs ?? 5000,
        ca: options.metadataDocumentCa,
      })),
      ...(options.metadataDocumentTimeoutMs ? {timeoutMs: options.metadataDocumentTimeoutMs} : {}),
      ...(options.metadataDocumentMaxBytes ? {maxBytes: options.metadataDocumentMaxBytes} : {}),
    })
  }
  const documents = metadataDocuments
    ? {resolve: async (url: string, context: {remoteAddress: string}) => (await (loading ??= loadDocuments())).resolve(url, context)}
    : undefined

  // One set of browser sessions, cookies and login budgets for the consent page, the account page
  // and the console (its owner login).
  const sessions = shared
    ? createSharedSessionStore({store, clock, findClient: (id) => clients.get(id), limits: options.browserSessions ?? {}})
    : createSessionStore({clock, limits: options.browserSessions ?? {}})
  const loginGuard = createOwnerLoginGuard({limits: {...ownerLoginDefaults, ...options.ownerLogin}, clock, ...(budgets ? {budgets} : {})})
  const devices = deviceCookie({secure: issuerUrl.protocol === 'https:'})
  const cookie = sessionCookie({secure: issuerUrl.protocol === 'https:'})
  const ownerLogin = createOwnerLogin({store, clock, sessions, cookie, deviceCookie: devices, passwordLogin: createPasswordLogin({store, guard: loginGuard})})
  // Upstream sign-in resumes the consent request the endpoint parked: bound once both exist.
  let resume: ReturnType<typeof createAuthorizationEndpoint>['resume'] | undefined
  const upstream = options.upstream
    ? createUpstreamLogin({options: options.upstream, issuer, store, clock, logger, sessions, cookie, resume: (...args) => resume!(...args)})
    : undefined
  const authorize = createAuthorizationEndpoint({
    issuer,
    store,
    clock,
    resolveClient: createClientResolver({clients, metadataDocuments: documents}),
    resolveResource,
    supportedScopes: scopes,
    sessions,
    cookie,
    deviceCookie: devices,
    issueCode: createCodeIssuer({store, clock}),
    loginGuard,
    autoApprove,
    maxBodyBytes,
    action: `${issuer}/oauth/authorize`,
    upstream: upstream && {startUrl: upstream.startUrl, label: upstream.label, passwords: !options.upstream!.only},
  })
  resume = authorize.resume
  const register = registration
    ? createRegistrationEndpoint({
        store,
        clients,
        clock,
        limiter: registrations,
        supportedScopes: scopes,
        defaultScopes: scopes,
        maxBodyBytes: Math.min(maxBodyBytes, 16 * 1024),
        maxRegisteredClients,
      })
    : undefined

  // The consent pages are same-origin only (CORS class none); registration is public (browser-based clients).
  const routes: Route[] = []
  for (const path of ['/oauth/authorize', '/authorize']) {
    routes.push({method: 'GET', path, cors: 'none', handler: authorize.get}, {method: 'POST', path, cors: 'none', handler: authorize.post})
  }
  const account = createAccountPage({
    store,
    clock,
    sessions,
    cookie,
    deviceCookie: devices,
    login: createPasswordLogin({store, guard: loginGuard}),
    maxBodyBytes,
    action: `${issuer}${ACCOUNT_PATH}`,
    upstream: upstream && {url: `${issuer}${ACCOUNT_UPSTREAM_PATH}`, label: upstream.label, passwords: !options.upstream!.only},
  })
  routes.push({method: 'GET', path: ACCOUNT_PATH, cors: 'none', handler: account.get}, {method: 'POST', path: ACCOUNT_PATH, cors: 'none', handler: account.post})
  // A link, as the console's: a GET from this page's session to the provider, back to the page.
  if (upstream) routes.push({method: 'GET', path: ACCOUNT_UPSTREAM_PATH, cors: 'none', handler: (req, res) => upstream.accountStart(`${issuer}${ACCOUNT_PATH}`)(req, res)})
  if (upstream) {
    routes.push({method: 'GET', path: UPSTREAM_START_PATH, cors: 'none', handler: upstream.start}, {method: 'GET', path: UPSTREAM_CALLBACK_PATH, cors: 'none', handler: upstream.callback})
  }
  if (register) for (const path of ['/oauth/register', '/register']) routes.push({method: 'POST', path, cors: 'public', handler: register})

  return {
    grants,
    routes,
    revokedGrants,
    /** The owner's browser login (src/owner/owner-login.ts), for the console. */
    ownerLogin,
    /** Upstream sign-in (src/users/oidc/upstream-login.ts) when --oidc-issuer is set, for the console too. */
    upstream,
    authMethods: ['none'],
    urls: {authorization: `${issuer}/oauth/authorize`, ...(register ? {registration: `${issuer}/oauth/register`} : {})},
    metadata: {
      // RFC 9207 §3: every authorization response carries iss.
      authorization_response_iss_parameter_supported: true,
      ...(documents ? {client_id_metadata_document_supported: true} : {}),
    },
    revokers: [refreshTokenRevoker({store, clock})],
    /** Periodic upkeep: expired codes and refresh tokens, unused registrations. */
    async maintain(): Promise<void> {
      const now = clock.now()
      await store.grants.prune(now)
      if (shared) await store.browserSessions.prune(now)
      await store.registeredClients.expireUnused({
        neverUsedBefore: now - (options.registeredNeverUsedMs ?? interactiveDefaults.registeredNeverUsedMs),
        idleBefore: now - (options.registeredIdleMs ?? interactiveDefaults.registeredIdleMs),
        at: now,
      })
    },
    async close(): Promise<void> {
      await agent?.close()
    },
  }
}
