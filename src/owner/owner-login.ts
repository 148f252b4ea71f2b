import type {IncomingMessage} from 'node:http'
import type {Clock} from '../clock.js'
import {DEVICE_COOKIE_MAX_AGE_S, type SessionCookie} from '../oauth/authorize/cookies.js'
import type {BrowserSession, SessionStore} from '../oauth/authorize/sessions.js'
import type {Store} from '../store/types.js'
import {deviceTokenId, newDeviceToken} from './device-token.js'
import type {OwnerLoginGuard} from './login-guard.js'
import {verifyPassword} from './password.js'

/** The one subject of this server: its owner (a single-user gateway). */
export const OWNER_SUBJECT = 'owner'

/** What a password check came to. On success: the new (logged-in) session and the cookies to set. */
export type LoginResult =
  | {ok: true; session: BrowserSession; cookies: string[]}
  | {ok: false; status: 401 | 429 | 503; message: string; retryAfter?: number}

/**
 * The owner's browser login, one for every page that asks for it (the consent page, the
 * console): the same browser sessions, session cookie, device cookie and login budgets.
 *
 * `logIn` checks the password against the stored hash under the owner-login guard (CONTRACT.md
 * rate limits; RFC 9700 §4.10; NIST SP 800-63B §5.2.2): the attempt is reserved before the hash,
 * per session and per address or device; a right password refunds it, replaces the session id
 * (session fixation) and hands a device token to a browser without one (device-token.ts).
 */
export function createOwnerLogin({
  store,
  clock,
  sessions,
  cookie,
  deviceCookie,
  guard,
}: {
  store: Store
  clock: Clock
  sessions: SessionStore
  cookie: SessionCookie
  deviceCookie: SessionCookie
  guard: OwnerLoginGuard
}) {
  const cookieFor = (s: BrowserSession) => cookie.serialize(s.id, (s.expiresAt - clock.now()) / 1000)
  return {
    sessions,
    cookie,
    /** The Set-Cookie value that carries this session. */
    cookieFor,
    /** The browser session this request carries (logged in or not), if it is still live. */
    session(req: IncomingMessage): Promise<BrowserSession | undefined> {
      return sessions.get(cookie.read(req))
    },
    /** The request's session, or a new anonymous one with the Set-Cookie to send. */
    async sessionOrNew(req: IncomingMessage, remoteAddress: string): Promise<{session: BrowserSession; setCookie?: string}> {
      const found = await sessions.get(cookie.read(req))
      if (found) return {session: found}
      const session = await sessions.create(remoteAddress)
      return {session, setCookie: cookieFor(session)}
    },
    csrfMatches: (session: BrowserSession, presented: string | undefined) => sessions.csrfMatches(session, presented),
    async logIn({req, remoteAddress, session, password}: {req: IncomingMessage; remoteAddress: string; session: BrowserSession; password: string}): Promise<LoginResult> {
      const hash = await store.owner.passwordHash()
      if (!hash) return {ok: false, status: 503, message: 'No owner password is set on this server; run: npx gatehouse owner set-password (with the daemon\'s --data-dir)'}
      const deviceId = deviceTokenId(hash, deviceCookie.read(req))
      const attempt = await guard.reserve({sessionId: session.id, address: remoteAddress, deviceId})
      if ('retryAfter' in attempt) return {ok: false, status: 429, message: `Too many login attempts; try again in ${attempt.retryAfter} seconds.`, retryAfter: attempt.retryAfter}
      let ok: boolean
      try {
        ok = await verifyPassword(password, hash)
      } finally {
        attempt.release()
      }
      if (!ok) return {ok: false, status: 401, message: 'Wrong password.'}
      await attempt.refund()
      const next = await sessions.login(session)
      const cookies = [cookieFor(next)]
      if (deviceId === undefined) cookies.push(deviceCookie.serialize(newDeviceToken(hash), DEVICE_COOKIE_MAX_AGE_S))
      return {ok: true, session: next, cookies}
    },
    /** Ends the session on the server; returns the Set-Cookie that clears it in the browser. */
    async logOut(session: BrowserSession | undefined): Promise<string> {
      if (session) await sessions.end(session.id)
      return cookie.serialize('', 0)
    },
  }
}

export type OwnerLogin = ReturnType<typeof createOwnerLogin>
