import type {ServerResponse} from 'node:http'
import type {Clock} from '../../clock.js'
import {readParams} from '../../http/body.js'
import type {Handler} from '../../http/router.js'
import {newDeviceToken} from '../../owner/device-token.js'
import {consentRevokedEvent, createConsentAdmin} from '../../owner/consents.js'
import {decideConsentRevocation} from '../../owner/consent-revocation.js'
import type {Store, UserRecord} from '../../store/types.js'
import type {PasswordLogin} from '../../users/password-login.js'
import {DEVICE_COOKIE_MAX_AGE_S, type SessionCookie} from './cookies.js'
import {AuthorizePageError} from './errors.js'
import {accountPage, errorPage, sendPage, type AccountView} from './pages.js'
import type {BrowserSession, SessionStore} from './sessions.js'

export const ACCOUNT_PATH = '/oauth/account'
/** GET: this page's "Sign in with <provider>" (upstream sign-in, back to ACCOUNT_PATH). */
export const ACCOUNT_UPSTREAM_PATH = '/oauth/account/upstream'

/**
 * GET and POST /oauth/account (issue 17): a signed-in person's remembered approvals, each with a
 * revoke button. A member sees and revokes their own; an owner sees and revokes everyone's.
 * Signing in here is the consent page's name-and-password login (same budgets); a session made by
 * an upstream sign-in on a consent page works here too, and with `upstream` (--oidc-issuer) the
 * page offers "Sign in with <provider>" itself (ACCOUNT_UPSTREAM_PATH), so a person without a
 * password reaches their approvals; with `passwords: false` (--oidc-only) only that. Every POST carries the session's CSRF
 * token (RFC 6749 §10.12); revoking a consent revokes the grants made under it at once.
 */
export function createAccountPage({store, clock, sessions, cookie, deviceCookie, login, maxBodyBytes, action, upstream}: {
  store: Store
  clock: Clock
  sessions: SessionStore
  cookie: SessionCookie
  deviceCookie: SessionCookie
  login: PasswordLogin
  maxBodyBytes: number
  /** This page's absolute URL (forms post here). */
  action: string
  /** Upstream sign-in: the link's URL and label, and whether the password form is offered too. */
  upstream?: {url: string; label: string; passwords: boolean} | undefined
}): {get: Handler; post: Handler} {
  const passwords = upstream?.passwords ?? true
  const consents = createConsentAdmin({store, clock})
  const cookieFor = (s: BrowserSession) => cookie.serialize(s.id, (s.expiresAt - clock.now()) / 1000)

  async function signedIn(session: BrowserSession | undefined): Promise<UserRecord | undefined> {
    if (!session || session.ownerAt === null || session.userId === undefined) return undefined
    const user = await store.users.findById(session.userId)
    return user && user.disabledAt === null ? user : undefined
  }

  async function show(res: ServerResponse, status: number, session: BrowserSession, user: UserRecord | undefined, error?: string, headers: Record<string, string | string[]> = {}) {
    const view: AccountView = {action, csrf: session.csrf, error, user: user && {name: user.name, role: user.role}, consents: [], passwords, upstream: upstream && {url: upstream.url, label: upstream.label}}
    if (user) {
      const list = await consents.list({includeRevoked: false, user: user.role === 'owner' ? undefined : user.id})
      view.consents = list.map((c) => ({clientId: c.clientId, clientName: c.clientName, subject: c.subject, userName: c.userName ?? c.subject, scopes: c.scopes, createdAt: new Date(c.createdAt).toISOString().slice(0, 16).replace('T', ' ')}))
    }
    sendPage(res, status, 'Your approvals', accountPage(view), headers)
  }

  const get: Handler = async (req, res, ctx) => {
    let session = await sessions.get(cookie.read(req))
    const headers: Record<string, string> = {}
    if (!session) {
      session = await sessions.create(ctx.remoteAddress)
      headers['Set-Cookie'] = cookieFor(session)
    }
    await show(res, 200, session, await signedIn(session), undefined, headers)
  }

  const post: Handler = async (req, res, ctx) => {
    try {
      const params = await readParams(req, maxBodyBytes)
      const session = await sessions.get(cookie.read(req))
      if (!session) throw new AuthorizePageError(400, 'Session expired', 'this page expired or cookies are blocked; open it again')
      if (!sessions.csrfMatches(session, params.get('csrf_token'))) throw new AuthorizePageError(403, 'Request refused', 'the form could not be verified (CSRF token); open the page again')
      const user = await signedIn(session)
      if (params.get('action') === 'login') {
        if (!passwords) return show(res, 400, session, undefined, 'Sign in with the button below.')
        const r = await login({name: (params.get('username') ?? '').trim(), password: params.get('password') ?? '', sessionId: session.id, address: ctx.remoteAddress, device: deviceCookie.read(req)})
        if (r.outcome === 'limited') return show(res, 429, session, undefined, `Too many login attempts; try again in ${r.retryAfter} seconds.`, {'Retry-After': String(r.retryAfter)})
        if (r.outcome === 'disabled') return show(res, 403, session, undefined, `Account disabled: ${r.user.name} is disabled on this server. Ask an owner to enable it.`)
        if (r.outcome !== 'ok') return show(res, 401, session, undefined, 'Wrong user name or password.')
        const next = await sessions.login(session, r.user.id)
        const cookies = [cookieFor(next)]
        if (r.deviceId === undefined) cookies.push(deviceCookie.serialize(newDeviceToken(r.passwordHash), DEVICE_COOKIE_MAX_AGE_S))
        return void res.writeHead(303, {Location: action, 'Set-Cookie': cookies, 'Cache-Control': 'no-store'}).end()
      }
      if (params.get('action') !== 'revoke') throw new AuthorizePageError(400, 'Invalid request', 'action must be login or revoke')
      if (!user) return show(res, 401, session, undefined, 'Sign in first.')
      const subject = params.get('subject') ?? ''
      // A member revokes only their own; an owner anyone's.
      if (subject !== user.id && user.role !== 'owner') throw new AuthorizePageError(403, 'Not yours', 'you can revoke only your own approvals')
      const at = clock.now()
      const r = await store.consents.revokeWith(params.get('client_id') ?? '', (view) => decideConsentRevocation(view, at, subject))
      if (r.consents === 0 && r.grants === 0) return show(res, 404, session, user, 'That approval was not found (already revoked?).')
      await store.audit.append([consentRevokedEvent({method: 'account page', subject: user.id, name: user.name}, at, params.get('client_id') ?? '', subject, r)])
      res.writeHead(303, {Location: action, 'Cache-Control': 'no-store'}).end()
    } catch (error) {
      if (error instanceof AuthorizePageError) return sendPage(res, error.status, error.title, errorPage(error.title, error.detail))
      throw error
    }
  }

  return {get, post}
}
