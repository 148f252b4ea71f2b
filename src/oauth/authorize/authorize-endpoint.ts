import type {ServerResponse} from 'node:http'
import type {Clock} from '../../clock.js'
import {readParams} from '../../http/body.js'
import {NO_STORE} from '../../http/respond.js'
import type {Handler} from '../../http/router.js'
import {OWNER_SUBJECT, type OwnerLogin} from '../../owner/owner-login.js'
import type {ClientRecord, Store} from '../../store/types.js'
import type {ResourceResolver} from '../resource.js'
import type {CodeIssuer} from './code-issuer.js'
import type {SessionCookie} from './cookies.js'
import {AuthorizePageError, AuthorizeRedirectError} from './errors.js'
import {consentPage, errorPage, sendPage} from './pages.js'
import {parseAuthorizationRequest, type AuthorizationRequest, type ClientResolver} from './request.js'
import type {BrowserSession, SessionStore} from './sessions.js'

export {OWNER_SUBJECT}

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
 * GET and POST /oauth/authorize: validate the request, have the owner log in and approve (or
 * find an approval remembered for this client and scope set), then redirect with a code.
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
  ownerLogin,
  issueCode,
  autoApprove,
  maxBodyBytes,
  action,
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
  /** The owner's password login, shared with the console (src/owner/owner-login.ts). */
  ownerLogin: OwnerLogin
  issueCode: CodeIssuer
  /** Development only (loopback issuer): approve every valid request without asking. */
  autoApprove: boolean
  maxBodyBytes: number
  /** Where the consent form posts (the issuer's /oauth/authorize). */
  action: string
}): {get: Handler; post: Handler} {
  const expired = () => new AuthorizePageError(400, 'Request expired', 'this authorization request was already answered; start again from the application')
  const cookieFor = (s: BrowserSession) => cookie.serialize(s.id, (s.expiresAt - clock.now()) / 1000)

  async function approve(res: ServerResponse, status: 302 | 303, request: AuthorizationRequest, headers: Record<string, string | string[]> = {}) {
    const code = await issueCode(request, OWNER_SUBJECT)
    redirectBack(res, status, request, issuer, {code}, headers)
  }

  /**
   * Whether a remembered approval may stand in for the page. RFC 8252 §8.6: without assurance of
   * the client's identity, a request is handled as if nothing had been approved before. Assured
   * are a confidential client (a code is worth nothing without its credentials) and a redirect URI
   * that is exactly a registered one; not a public client whose loopback redirect only matched
   * with another port (RFC 8252 §7.3), which any program on this computer can listen on.
   */
  async function remembered(request: AuthorizationRequest): Promise<boolean> {
    const assured = request.client.authMethod !== 'none' || request.client.redirectUris.includes(request.redirectUri)
    if (!assured) return false
    const consents = await store.consents.active(request.client.id, OWNER_SUBJECT)
    return consents.some((c) => request.scopes.every((s) => c.scopes.includes(s)))
  }

  /**
   * Whether errors may be redirected to this client (RFC 9700 §4.11.2, RFC 6749 §4.1.2.1): its
   * redirect URI is trusted only when the owner created the client with the CLI, has approved it
   * (an active consent), or approves everything (auto-approve, where a valid request redirects at
   * once anyway). Anyone can register a client, so for any other an error is a page of our own.
   */
  async function trusted(client: ClientRecord): Promise<boolean> {
    if (autoApprove || client.registration === 'cli') return true
    return (await store.consents.active(client.id, OWNER_SUBJECT)).length > 0
  }

  function showConsent(res: ServerResponse, status: number, request: AuthorizationRequest, session: BrowserSession, requestId: string, error?: string, headers: Record<string, string> = {}) {
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
        needsPassword: session.ownerAt === null,
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
    if (autoApprove) return approve(res, 302, request)
    let session = await sessions.get(cookie.read(req))
    const headers: Record<string, string> = {}
    if (!session) {
      session = await sessions.create(ctx.remoteAddress)
      headers['Set-Cookie'] = cookieFor(session)
    }
    if (session.ownerAt !== null && (await remembered(request))) return approve(res, 302, request, headers)
    showConsent(res, 200, request, session, await sessions.park(session.id, request), undefined, headers)
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
      return redirectBack(res, 303, request, issuer, {error: 'access_denied', error_description: 'the owner denied the request'})
    }
    if (decision !== 'approve') throw new AuthorizePageError(400, 'Invalid request', 'decision must be approve or deny')

    const headers: Record<string, string | string[]> = {}
    if (session.ownerAt === null) {
      // The owner's login, shared with the console (src/owner/owner-login.ts): rate-limited per
      // session, per address or device, in all, with bounded hashes at once (CONTRACT.md; RFC 9700 §4.10).
      const login = await ownerLogin.logIn({req, remoteAddress: ctx.remoteAddress, session, password: params.get('password') ?? ''})
      if (!login.ok) {
        if (login.status === 503) throw new AuthorizePageError(503, 'No owner password', 'no owner password is set on this server; run: npx gatehouse owner set-password (with the daemon\'s --data-dir)')
        return showConsent(res, login.status, request, session, requestId, login.message, login.retryAfter ? {'Retry-After': String(login.retryAfter)} : {})
      }
      // Answered meanwhile by a concurrent POST of this session?
      // (here or on another node)?
      if (!(await sessions.pending(requestId, login.session.id))) throw expired()
      session = login.session
      headers['Set-Cookie'] = login.cookies
    }
    // Single use, decided by the session store: of two answers racing (two tabs, two nodes) one wins.
    if (!(await sessions.settle(requestId, session.id))) throw expired()
    await store.consents.remember({clientId: request.client.id, subject: OWNER_SUBJECT, scopes: request.scopes, at: clock.now()})
    await approve(res, 303, request, headers)
  }

  return {get: guarded(302, get), post: guarded(303, post)}
}
