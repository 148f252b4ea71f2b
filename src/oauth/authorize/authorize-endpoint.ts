import {adminEvent} from '../../audit/actor.js'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Clock} from '../../clock.js'
import {readParams} from '../../http/body.js'
import {NO_STORE} from '../../http/respond.js'
import type {Handler} from '../../http/router.js'
import {newDeviceToken} from '../../owner/device-token.js'
import {DEVICE_COOKIE_MAX_AGE_S} from './cookies.js'
import type {OwnerLoginGuard} from '../../owner/login-guard.js'
import type {ClientRecord, Store, UserRecord} from '../../store/types.js'
import {newUserId} from '../../store/user-id.js'
import {createPasswordLogin} from '../../users/password-login.js'
import type {ResourceResolver} from '../resource.js'
import type {CodeIssuer} from './code-issuer.js'
import type {SessionCookie} from './cookies.js'
import {AuthorizePageError, AuthorizeRedirectError} from './errors.js'
import {consentPage, errorPage, sendPage} from './pages.js'
import {parseAuthorizationRequest, type AuthorizationRequest, type ClientResolver} from './request.js'
import type {BrowserSession, SessionStore} from './sessions.js'

/**
 * The subject of grants before there were users (issue 17): migrations renamed it to the owner
 * user's id; access tokens issued before the upgrade may still carry it.
 */
export const LEGACY_OWNER_SUBJECT = 'owner'

/**
 * Sends the browser back to the client with the authorization response. Every response,
 * success or error, carries `iss` (RFC 9207 §2) and echoes `state` (RFC 6749 §4.1.2).
 */
function redirectBack(res: ServerResponse, status: 302 | 303, target: {redirectUri: string; state: string | undefined}, issuer: string, params: Record<string, string>, headers: Record<string, string | string[]> = {}) {
  const url = new URL(target.redirectUri)
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v)
  if (target.state !== undefined) url.searchParams.append('state', target.state)
  url.searchParams.append('iss', issuer)
  res.writeHead(status, {...NO_STORE, ...headers, Location: url.href}).end()
}

/**
 * GET and POST /oauth/authorize: validate the request, have a person sign in (name and password,
 * or the owner's password alone, or upstream: `upstream`) and approve for themselves (or find
 * their approval remembered for this client and scope set), then redirect with a code whose grant
 * names that person (issue 17: consents, grants and refresh families belong to (user, client)).
 * After a POST the redirect is a 303, so the browser does not re-send the form, password
 * included, to the client (RFC 9700 §4.12).
 */
export function createAuthorizationEndpoint({
  issuer,
  store,
  clock,
  resolveClient,
  resolveResource,
  supportedScopes,
  sessions,
  cookie,
  deviceCookie,
  issueCode,
  loginGuard,
  autoApprove,
  maxBodyBytes,
  action,
  upstream,
}: {
  issuer: string
  store: Store
  clock: Clock
  resolveClient: ClientResolver
  resolveResource: ResourceResolver
  /** The scopes this server offers (scopes_supported): requested scopes outside them are dropped. */
  supportedScopes?: () => readonly string[]
  sessions: SessionStore
  cookie: SessionCookie
  /** The device cookie of a browser someone logged in with (src/owner/device-token.ts). */
  deviceCookie: SessionCookie
  issueCode: CodeIssuer
  /** Login budgets, shared with the account page and the console (src/owner/login-guard.ts). */
  loginGuard: OwnerLoginGuard
  /** Development only (loopback issuer): approve every valid request without asking. */
  autoApprove: boolean
  maxBodyBytes: number
  /** Where the consent form posts (the issuer's /oauth/authorize). */
  action: string
  /** Upstream sign-in (src/users/oidc/*), when configured: where its button goes, and whether passwords are on. */
  upstream?: {startUrl(requestId: string): string; label: string; passwords: boolean} | undefined
}): {get: Handler; post: Handler; resume: (req: IncomingMessage, res: ServerResponse, session: BrowserSession, requestId: string, headers: Record<string, string | string[]>) => Promise<void>} {
  const expired = () => new AuthorizePageError(400, 'Request expired', 'this authorization request was already answered; start again from the application')
  const cookieFor = (s: BrowserSession) => cookie.serialize(s.id, (s.expiresAt - clock.now()) / 1000)
  const passwordLogin = createPasswordLogin({store, guard: loginGuard})
  const passwords = upstream?.passwords ?? true

  async function approve(res: ServerResponse, status: 302 | 303, request: AuthorizationRequest, user: UserRecord, headers: Record<string, string | string[]> = {}) {
    const code = await issueCode(request, user.id)
    redirectBack(res, status, request, issuer, {code}, headers)
  }

  /** The person signed in with this session, while they exist and are not disabled. */
  async function signedIn(session: BrowserSession): Promise<UserRecord | undefined> {
    if (session.ownerAt === null || session.userId === undefined) return undefined
    const user = await store.users.findById(session.userId)
    return user && user.disabledAt === null ? user : undefined
  }

  /** Auto-approve (development) acts for the primary owner, made (without a password) when there is none. */
  async function developmentOwner(): Promise<UserRecord> {
    const owner = await store.users.primaryOwner()
    if (owner) return owner
    const user: UserRecord = {id: newUserId(), name: 'owner', role: 'owner', passwordHash: null, createdAt: clock.now(), disabledAt: null}
    try {
      await store.users.insert(user)
      return user
    } catch (error) {
      const again = await store.users.primaryOwner()
      if (again) return again
      throw error
    }
  }

  /**
   * Whether a remembered approval may stand in for the page. RFC 8252 §8.6: without assurance of
   * the client's identity, a request is handled as if nothing had been approved before. Assured
   * are a confidential client (a code is worth nothing without its credentials) and a redirect URI
   * that is exactly a registered one; not a public client whose loopback redirect only matched
   * with another port (RFC 8252 §7.3), which any program on this computer can listen on.
   */
  async function remembered(request: AuthorizationRequest, user: UserRecord): Promise<boolean> {
    const assured = request.client.authMethod !== 'none' || request.client.redirectUris.includes(request.redirectUri)
    if (!assured) return false
    const consents = await store.consents.active(request.client.id, user.id)
    return consents.some((c) => request.scopes.every((s) => c.scopes.includes(s)))
  }

  /**
   * Whether errors may be redirected to this client (RFC 9700 §4.11.2, RFC 6749 §4.1.2.1): its
   * redirect URI is trusted only when the owner created the client with the CLI, someone has
   * approved it (an active consent), or the server approves everything (auto-approve, where a valid
   * request redirects at once anyway). Anyone can register a client, so for any other an error is
   * a page of our own.
   */
  async function trusted(client: ClientRecord): Promise<boolean> {
    if (autoApprove || client.registration === 'cli') return true
    return (await store.consents.list({includeRevoked: false, clientId: client.id})).length > 0
  }

  function showConsent(res: ServerResponse, status: number, request: AuthorizationRequest, session: BrowserSession, requestId: string, user: UserRecord | undefined, error?: string, headers: Record<string, string | string[]> = {}) {
    sendPage(
      res,
      status,
      `Authorize ${request.client.name}`,
      consentPage({
        clientName: request.client.name,
        clientId: request.client.id,
        registration: request.client.registration,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
        requestId,
        csrf: session.csrf,
        needsPassword: user === undefined,
        passwords,
        userName: user?.name,
        upstream: user === undefined && upstream ? {url: upstream.startUrl(requestId), label: upstream.label} : undefined,
        error,
        action,
      }),
      headers,
    )
  }

  /** The authorization endpoint's own error mapping: a page, or a redirect to a trusted client. */
  const guarded =
    (status: 302 | 303, handler: Handler): Handler =>
    async (req, res, ctx) => {
      try {
        await handler(req, res, ctx)
      } catch (error) {
        if (error instanceof AuthorizePageError) return sendPage(res, error.status, error.title, errorPage(error.title, error.detail))
        if (error instanceof AuthorizeRedirectError) {
          if (!(await trusted(error.target.client))) {
            const detail = `${error.description} (${error.code}). This application is not approved yet, so the error is shown here and not sent to it.`
            return sendPage(res, 400, 'Invalid request', errorPage('Invalid request', detail))
          }
          return redirectBack(res, status, error.target, issuer, {error: error.code, error_description: error.description})
        }
        throw error
      }
    }

  const get: Handler = async (req, res, ctx) => {
    const request = await parseAuthorizationRequest(ctx.url.searchParams, {resolveClient, resolveResource, supportedScopes, remoteAddress: ctx.remoteAddress})
    ctx.clientId = request.client.id
    if (autoApprove) return approve(res, 302, request, await developmentOwner())
    let session = await sessions.get(cookie.read(req))
    const headers: Record<string, string> = {}
    if (!session) {
      session = await sessions.create(ctx.remoteAddress)
      headers['Set-Cookie'] = cookieFor(session)
    }
    const user = await signedIn(session)
    if (user && (await remembered(request, user))) return approve(res, 302, request, user, headers)
    showConsent(res, 200, request, session, await sessions.park(session.id, request), user, undefined, headers)
  }

  /**
   * After an upstream sign-in (src/users/oidc/*) logged `session` in: the parked request is shown
   * again for the person to approve, or approved at once when they had approved it before.
   * Throws AuthorizePageError when the request is gone.
   */
  async function resume(_req: IncomingMessage, res: ServerResponse, session: BrowserSession, requestId: string, headers: Record<string, string | string[]>) {
    const request = await sessions.pending(requestId, session.id)
    if (!request) throw new AuthorizePageError(400, 'Request expired', 'this authorization request expired or was already answered; start again from the application')
    const user = await signedIn(session)
    if (user && (await remembered(request, user))) {
      if (!(await sessions.settle(requestId, session.id))) throw expired()
      return approve(res, 303, request, user, headers)
    }
    showConsent(res, 200, request, session, requestId, user, undefined, headers)
  }

  const post: Handler = async (req, res, ctx) => {
    const params = await readParams(req, maxBodyBytes)
    let session = await sessions.get(cookie.read(req))
    if (!session) throw new AuthorizePageError(400, 'Session expired', 'this page expired or cookies are blocked; start again from the application')
    // CSRF (RFC 6749 §10.12, MCP security best practices): the token bound to this session.
    if (!sessions.csrfMatches(session, params.get('csrf_token'))) {
      throw new AuthorizePageError(403, 'Request refused', 'the form could not be verified (CSRF token); start again from the application')
    }
    const requestId = params.get('request_id') ?? ''
    const request = await sessions.pending(requestId, session.id)
    if (!request) throw new AuthorizePageError(400, 'Request expired', 'this authorization request expired or was already answered; start again from the application')
    ctx.clientId = request.client.id
    const decision = params.get('decision')
    if (decision === 'deny') {
      if (!(await sessions.settle(requestId, session.id))) throw expired()
      return redirectBack(res, 303, request, issuer, {error: 'access_denied', error_description: 'the request was denied'})
    }
    if (decision === 'switch') {
      // "Not you?": a fresh anonymous session carries the request; the person signs in again.
      if (!(await sessions.settle(requestId, session.id))) throw expired()
      session = await sessions.create(ctx.remoteAddress)
      return showConsent(res, 200, request, session, await sessions.park(session.id, request), undefined, undefined, {'Set-Cookie': cookieFor(session)})
    }
    if (decision !== 'approve') throw new AuthorizePageError(400, 'Invalid request', 'decision must be approve or deny')

    const headers: Record<string, string | string[]> = {}
    let user = await signedIn(session)
    if (!user) {
      if (!passwords) return showConsent(res, 400, request, session, requestId, undefined, 'Sign in with the button below.')
      const result = await passwordLogin({name: (params.get('username') ?? '').trim(), password: params.get('password') ?? '', sessionId: session.id, address: ctx.remoteAddress, device: deviceCookie.read(req)})
      if (result.outcome === 'no_owner') throw new AuthorizePageError(503, 'No owner password', 'no owner password is set on this server; run: npx gatehouse owner set-password (with the daemon\'s --data-dir), or sign in with your user name')
      if (result.outcome === 'limited') {
        const wait = String(result.retryAfter)
        return showConsent(res, 429, request, session, requestId, undefined, `Too many login attempts; try again in ${wait} seconds.`, {'Retry-After': wait})
      }
      if (result.outcome === 'wrong') return showConsent(res, 401, request, session, requestId, undefined, params.get('username') ? 'Wrong user name or password.' : 'Wrong password.')
      if (result.outcome === 'disabled') return showConsent(res, 403, request, session, requestId, undefined, `Account disabled: ${result.user.name} is disabled on this server. Ask an owner to enable it.`)
      // Answered meanwhile by a concurrent POST of this session?
      // (here or on another node)?
      if (!(await sessions.pending(requestId, session.id))) throw expired()
      user = result.user
      session = await sessions.login(session, user.id)
      const cookies = [cookieFor(session)]
      if (result.deviceId === undefined) cookies.push(deviceCookie.serialize(newDeviceToken(result.passwordHash), DEVICE_COOKIE_MAX_AGE_S))
      headers['Set-Cookie'] = cookies
    }
    // Single use, decided by the session store: of two answers racing (two tabs, two nodes) one wins.
    if (!(await sessions.settle(requestId, session.id))) throw expired()
    const at = clock.now()
    await store.consents.remember({clientId: request.client.id, subject: user.id, scopes: request.scopes, at})
    // The person's own approval, given on this page (what auto-approve and a remembered consent skip).
    await store.audit.append([adminEvent({method: 'consent page', subject: user.id, name: user.name}, 'consent.granted', at, {clientId: request.client.id, detail: {user_id: user.id, user_name: user.name, scopes: request.scopes}})])
    await approve(res, 303, request, user, headers)
  }

  return {
    get: guarded(302, get),
    post: guarded(303, post),
    resume,
  }
}
