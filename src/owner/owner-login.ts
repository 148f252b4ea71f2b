import type {IncomingMessage} from 'node:http'
import type {Clock} from '../clock.js'
import {DEVICE_COOKIE_MAX_AGE_S, type SessionCookie} from '../oauth/authorize/cookies.js'
import type {BrowserSession, SessionStore} from '../oauth/authorize/sessions.js'
import type {Store, UserRecord, UserRole} from '../store/types.js'
import type {PasswordLogin} from '../users/password-login.js'
import {newDeviceToken} from './device-token.js'

/** What a password check came to. On success: the user, the new (logged-in) session and the cookies to set. */
export type LoginResult =
  | {ok: true; user: UserRecord; session: BrowserSession; cookies: string[]}
  | {ok: false; status: 401 | 403 | 429 | 503; message: string; retryAfter?: number}

/**
 * The browser login of the owner's console (and, through the same sessions, cookies and budgets,
 * of the consent and account pages): a person's name and password, or the owner's one-field form
 * of before (an empty name: the primary owner, as the users migration made it).
 *
 * `logIn` checks the password through the users' password login (src/users/password-login.ts:
 * the owner-login guard reserves the attempt before the hash, per session and per address or
 * device; CONTRACT.md rate limits; RFC 9700 §4.10; NIST SP 800-63B §5.2.2). A right password of a
 * user whose role is not in `roles` is refused (403, naming the role) and the session stays as it
 * was; otherwise the session id is replaced (session fixation) and a browser without a device
 * token gets one (device-token.ts).
 */
export function createOwnerLogin({
  store,
  clock,
  sessions,
  cookie,
  deviceCookie,
  passwordLogin,
}: {
  store: Store
  clock: Clock
  sessions: SessionStore
  cookie: SessionCookie
  deviceCookie: SessionCookie
  passwordLogin: PasswordLogin
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
    /** The signed-in, enabled user of this session, if any (a user since disabled or removed is nobody). */
    async user(session: BrowserSession | undefined): Promise<UserRecord | undefined> {
      if (!session || session.ownerAt === null || session.userId === undefined) return undefined
      const user = await store.users.findById(session.userId)
      return user && user.disabledAt === null ? user : undefined
    },
    async logIn({req, remoteAddress, session, name, password, roles}: {req: IncomingMessage; remoteAddress: string; session: BrowserSession; name: string; password: string; roles: readonly UserRole[]}): Promise<LoginResult> {
      const result = await passwordLogin({name, password, sessionId: session.id, address: remoteAddress, device: deviceCookie.read(req)})
      if (result.outcome === 'no_owner') return {ok: false, status: 503, message: 'No owner password is set on this server; run: npx gatehouse owner set-password (with the daemon\'s --data-dir), or log in with your user name'}
      if (result.outcome === 'limited') return {ok: false, status: 429, message: `Too many login attempts; try again in ${result.retryAfter} seconds.`, retryAfter: result.retryAfter}
      if (result.outcome === 'wrong') return {ok: false, status: 401, message: name === '' ? 'Wrong password.' : 'Wrong user name or password.'}
      if (result.outcome === 'disabled') return {ok: false, status: 403, message: `Account disabled: ${result.user.name} is disabled on this server. Ask an owner to enable it.`}
      if (!roles.includes(result.user.role)) return {ok: false, status: 403, message: `${result.user.name} is a ${result.user.role}: only ${roles.join(' or ')} users may log in here. Ask an owner if you need to.`}
      const next = await sessions.login(session, result.user.id)
      const cookies = [cookieFor(next)]
      if (result.deviceId === undefined) cookies.push(deviceCookie.serialize(newDeviceToken(result.passwordHash), DEVICE_COOKIE_MAX_AGE_S))
      return {ok: true, user: result.user, session: next, cookies}
    },
    /** Ends the session on the server; returns the Set-Cookie that clears it in the browser. */
    async logOut(session: BrowserSession | undefined): Promise<string> {
      if (session) await sessions.end(session.id)
      return cookie.serialize('', 0)
    },
  }
}

export type OwnerLogin = ReturnType<typeof createOwnerLogin>
