import type {IncomingMessage, ServerResponse} from 'node:http'
import type * as Oidc from 'openid-client'
import type {Clock} from '../../clock.js'
import {isLoopbackAddress} from '../../http/guards.js'
import type {Handler} from '../../http/router.js'
import type {Logger} from '../../log.js'
import type {SessionCookie} from '../../oauth/authorize/cookies.js'
import {AuthorizePageError} from '../../oauth/authorize/errors.js'
import {errorPage, sendPage} from '../../oauth/authorize/pages.js'
import type {BrowserSession, SessionStore} from '../../oauth/authorize/sessions.js'
import type {Store} from '../../store/types.js'
import {allows, isEmpty, missingClaims, type AllowList} from './allow-list.js'
import {privateKeyJwtAuth, type ClientKey} from './client-key.js'
import {linkAccount} from './link-account.js'

/** `oauth-server --oidc-*`: Gatehouse as an OpenID Connect relying party (issue 17). */
export interface UpstreamOptions {
  /** The provider's issuer identifier (https, or http on a loopback host for development). */
  issuer: string
  clientId: string
  /** How Gatehouse authenticates at the provider's token endpoint: a client secret, or private_key_jwt (RFC 7523 §2.2; OIDC Core §9). */
  clientAuth: {method: 'client_secret_basic'; secret: string} | {method: 'private_key_jwt'; key: ClientKey}
  allow: AllowList
  /** Make a member on the first sign-in of an allowed identity with no local user. */
  autoCreate: boolean
  /** Offer only upstream sign-in (no password form). */
  only: boolean
  /** The button's text; default "Sign in with <issuer host>". */
  label?: string | undefined
  /** Seconds for each request to the provider (discovery, token); default 10. */
  timeoutSeconds?: number | undefined
}

/** Where a sign-in goes back to: the consent request parked in the session, the owner's console, or a person's own approvals page (/oauth/account). */
export type UpstreamTarget = {kind: 'consent'; requestId: string} | {kind: 'console'; returnTo: string} | {kind: 'account'; returnTo: string}

interface Pending {
  sessionId: string
  then: UpstreamTarget
  verifier: string
  nonce: string
  expiresAt: number
}

/** How long a browser may take at the provider, ms. */
const PENDING_TTL_MS = 10 * 60_000
/** Most sign-ins in flight at once (each is a few hundred bytes); the oldest goes first. */
const MAX_PENDING = 10_000

/**
 * openid-client, loaded at the first upstream sign-in rather than with the daemon: most daemons
 * never sign anyone in upstream, and its module graph is part of idle memory (bench/README.md).
 * The module loader caches it after the first import.
 */
const openidClient = (): Promise<typeof Oidc> => import('openid-client')

export const UPSTREAM_START_PATH = '/oauth/upstream/start'
export const UPSTREAM_CALLBACK_PATH = '/oauth/upstream/callback'

/**
 * Upstream sign-in through openid-client (authorization code + PKCE S256, state, nonce, RFC 9207
 * `iss` in the authorization response, and ID token validation: signature against the
 * provider's JWKS, iss, aud, exp, iat, nonce; OIDC Core §3.1.3.7). The provider is discovered
 * on first use (and again after a failure), so a provider that is down at start does not stop
 * the daemon: the sign-in page says so and nothing is created.
 *
 * GET start?request=ID: for a consent request parked in this browser session, redirects to the
 * provider; the state is single-use and bound to the session (a callback in another browser, or
 * a second time, is refused: login CSRF, replay). GET callback: validates, maps (iss, sub) to one
 * local user (link-account.ts), logs the session in and resumes the consent request.
 * `accountStart(returnTo)` is the same sign-in for /oauth/account (any enabled person, back to
 * `returnTo`). `consoleStart(returnTo)` is the same sign-in for the owner's console (src/console): the
 * callback then admits only an enabled user with role owner (a member gets a page saying so and
 * the session stays as it was) and sends the browser to `returnTo`.
 */
export function createUpstreamLogin({
  options,
  issuer,
  store,
  clock,
  logger,
  sessions,
  cookie,
  resume,
}: {
  options: UpstreamOptions
  /** Our own issuer: the callback is `${issuer}/oauth/upstream/callback`. */
  issuer: string
  store: Store
  clock: Clock
  logger: Logger
  sessions: SessionStore
  cookie: SessionCookie
  resume(req: IncomingMessage, res: ServerResponse, session: BrowserSession, requestId: string, headers: Record<string, string | string[]>): Promise<void>
}) {
  const redirectUri = `${issuer}${UPSTREAM_CALLBACK_PATH}`
  const upstreamUrl = new URL(options.issuer)
  const insecure = upstreamUrl.protocol === 'http:' && isLoopbackAddress(upstreamUrl.hostname.replace(/^\[|\]$/g, ''))
  const pending = new Map<string, Pending>()
  let config: Promise<Oidc.Configuration> | undefined

  const clientAuth = async (oidc: typeof Oidc): Promise<Oidc.ClientAuth> =>
    options.clientAuth.method === 'private_key_jwt' ? privateKeyJwtAuth(options.clientAuth.key) : oidc.ClientSecretBasic(options.clientAuth.secret)
  const discover = () =>
    (config ??= openidClient()
      .then(async (oidc) =>
        oidc.discovery(upstreamUrl, options.clientId, {redirect_uris: [redirectUri], response_types: ['code']}, await clientAuth(oidc), {
          timeout: options.timeoutSeconds ?? 10,
          // The ID token's signature is checked against the provider's keys even though it came over
          // the back channel: a token signed by any other key is refused.
          execute: [...(insecure ? [oidc.allowInsecureRequests] : []), oidc.enableNonRepudiationChecks],
        }),
      )
      .catch((error: unknown) => {
        config = undefined
        throw error
      }))

  /**
   * The ID token's claims, completed from the UserInfo endpoint when the allow-list reads a claim
   * the ID token lacks: with the spec's default a provider returns the `email` and `profile` scope
   * claims from UserInfo only (OIDC Core §5.4). openid-client's fetchUserInfo checks that the
   * UserInfo `sub` is the ID token's (OIDC Core §5.3.2; a mismatch throws, the sign-in fails). The
   * ID token wins for `sub` and `iss`; UserInfo adds the rest. Without a UserInfo endpoint, or
   * when nothing is missing, the ID token's claims as they are.
   */
  async function withUserInfo(c: Oidc.Configuration, accessToken: string, claims: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (isEmpty(options.allow) || allows(options.allow, claims) || missingClaims(options.allow, claims).length === 0) return claims
    if (!c.serverMetadata().userinfo_endpoint) return claims
    const info = (await (await openidClient()).fetchUserInfo(c, accessToken, String(claims.sub))) as Record<string, unknown>
    return {...claims, ...info, sub: claims.sub, iss: claims.iss}
  }

  const failed = (res: ServerResponse, status: number, title: string, detail: string) => sendPage(res, status, title, errorPage(title, detail))

  /** Sends this browser session to the provider, remembering where to go back to. */
  async function toProvider(res: ServerResponse, session: BrowserSession, then: UpstreamTarget) {
    let c: Oidc.Configuration
    try {
      c = await discover()
    } catch (error) {
      logger.warn('upstream sign-in: the provider could not be discovered', {issuer: options.issuer, error: (error as Error).message})
      return failed(res, 502, 'Sign-in unavailable', 'the identity provider does not answer properly right now; try again later or ask the owner of this server')
    }
    const oidc = await openidClient()
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    for (const [k, p] of pending) {
      if (pending.size < MAX_PENDING && p.expiresAt > clock.now()) break
      pending.delete(k)
    }
    pending.set(state, {sessionId: session.id, then, verifier, nonce, expiresAt: clock.now() + PENDING_TTL_MS})
    const url = oidc.buildAuthorizationUrl(c, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    res.writeHead(303, {Location: url.href, 'Cache-Control': 'no-store'}).end()
  }

  const start: Handler = async (req, res, ctx) => {
    const session = await sessions.get(cookie.read(req))
    const requestId = ctx.url.searchParams.get('request') ?? ''
    if (!session || !(await sessions.pending(requestId, session.id))) {
      return failed(res, 400, 'Request expired', 'this authorization request expired or cookies are blocked; start again from the application')
    }
    await toProvider(res, session, {kind: 'consent', requestId})
  }

  /** A page's "Sign in with ..." link: sends this browser session to the provider, to come back to `then`. */
  const startFor =
    (then: UpstreamTarget) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const session = await sessions.get(cookie.read(req))
      if (!session) return failed(res, 400, 'Page expired', 'this page expired or cookies are blocked; reload the login page')
      await toProvider(res, session, then)
    }
  /** The console's "Sign in with ..." (owners only, checked at the callback). */
  const consoleStart = (returnTo: string) => startFor({kind: 'console', returnTo})
  /** /oauth/account's "Sign in with ...": any enabled person, to see and revoke their own approvals. */
  const accountStart = (returnTo: string) => startFor({kind: 'account', returnTo})

  const callback: Handler = async (req, res, ctx) => {
    const state = ctx.url.searchParams.get('state') ?? ''
    const p = pending.get(state)
    // Single use: whatever happens next, this state is spent.
    pending.delete(state)
    const session = await sessions.get(cookie.read(req))
    if (!p || p.expiresAt <= clock.now() || !session || session.id !== p.sessionId) {
      return failed(res, 400, 'Sign-in refused', 'this sign-in response is not one this browser started, or it was already used or expired (state); start again from the application')
    }
    const upstreamError = ctx.url.searchParams.get('error')
    if (upstreamError) return failed(res, 403, 'Sign-in cancelled', `the identity provider answered: ${upstreamError.slice(0, 100)}`)
    let claims: Record<string, unknown>
    const oidc = await openidClient()
    try {
      const c = await discover()
      const tokens = await oidc.authorizationCodeGrant(c, new URL(ctx.url.pathname + ctx.url.search, redirectUri), {
        pkceCodeVerifier: p.verifier,
        expectedState: state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      })
      claims = (tokens.claims() ?? {}) as Record<string, unknown>
      claims = await withUserInfo(c, tokens.access_token, claims)
    } catch (error) {
      logger.warn('upstream sign-in refused', {issuer: options.issuer, error: (error as Error).message})
      // The provider refused our own client authentication (RFC 6749 §5.2 invalid_client): a wrong
      // secret or key, not a forged answer; the owner of this server has to fix the configuration.
      if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_client') {
        return failed(res, 502, 'Sign-in failed', `the identity provider refused this server's client authentication (invalid_client, ${options.clientAuth.method}); nothing was changed. Tell the owner of this server: the client secret or key does not match what the provider has registered.`)
      }
      return failed(res, 502, 'Sign-in failed', 'the identity provider\'s answer could not be verified; nothing was changed. Start again from the application.')
    }
    const iss = String(claims.iss)
    if (!isEmpty(options.allow) && !allows(options.allow, claims)) {
      const missing = missingClaims(options.allow, claims)
      if (missing.length > 0) {
        // Not a refusal of the person: the provider did not tell us what the allow-list reads
        // (a scope or claim not released to this client, or no UserInfo endpoint).
        const names = missing.join(', ')
        logger.warn('upstream sign-in: the provider did not send a claim the allow-list reads', {issuer: iss, missing: names})
        return failed(res, 403, 'Sign-in incomplete', `the identity provider did not send the claim${missing.length > 1 ? 's' : ''} ${names}, which this server's allow-list needs (neither in the ID token nor from UserInfo). No account was created. Tell the owner of this server: the provider must release ${missing.length > 1 ? 'these claims' : 'this claim'} to this client (scopes openid email profile).`)
      }
      logger.info('upstream sign-in: not on the allow-list', {issuer: iss})
      return failed(res, 403, 'Not allowed', 'your account at the identity provider is not allowed to use this server. No account was created. Ask the owner of this server to allow you.')
    }
    const linked = await linkAccount({store, clock, issuer: iss, claims, autoCreate: options.autoCreate && !isEmpty(options.allow)})
    if (linked.outcome === 'no_account') return failed(res, 403, 'No account', 'you signed in, but no account here belongs to you, and accounts are not created automatically. Ask the owner of this server.')
    if (linked.outcome === 'disabled') return failed(res, 403, 'Account disabled', 'your account on this server is disabled.')
    if (linked.created) logger.info('user created at first upstream sign-in', {user: linked.user.name})
    if (p.then.kind === 'account') {
      const loggedIn = await sessions.login(session, linked.user.id)
      res.writeHead(303, {Location: p.then.returnTo, 'Cache-Control': 'no-store', 'Set-Cookie': cookie.serialize(loggedIn.id, (loggedIn.expiresAt - clock.now()) / 1000)}).end()
      return
    }
    if (p.then.kind === 'console') {
      if (linked.user.role !== 'owner') {
        logger.info('console: upstream sign-in of a member refused', {user: linked.user.name})
        return failed(res, 403, 'Owners only', `you signed in as ${linked.user.name}, a member: the console is for owners. Nothing was changed.`)
      }
      const loggedIn = await sessions.login(session, linked.user.id)
      res.writeHead(303, {Location: p.then.returnTo, 'Cache-Control': 'no-store', 'Set-Cookie': cookie.serialize(loggedIn.id, (loggedIn.expiresAt - clock.now()) / 1000)}).end()
      return
    }
    if (!(await sessions.pending(p.then.requestId, session.id))) throw new AuthorizePageError(400, 'Request expired', 'this authorization request expired or was already answered; start again from the application')
    const loggedIn = await sessions.login(session, linked.user.id)
    await resume(req, res, loggedIn, p.then.requestId, {'Set-Cookie': cookie.serialize(loggedIn.id, (loggedIn.expiresAt - clock.now()) / 1000)})
  }

  /** The guard the other consent pages have: a page for a request error, never a stack trace. */
  const paged =
    (h: Handler): Handler =>
    async (req, res, ctx) => {
      try {
        await h(req, res, ctx)
      } catch (error) {
        if (error instanceof AuthorizePageError) return sendPage(res, error.status, error.title, errorPage(error.title, error.detail))
        throw error
      }
    }

  return {
    start: paged(start),
    callback: paged(callback),
    consoleStart,
    accountStart,
    startUrl: (requestId: string) => `${issuer}${UPSTREAM_START_PATH}?request=${encodeURIComponent(requestId)}`,
    label: options.label ?? `Sign in with ${upstreamUrl.host}`,
  }
}
