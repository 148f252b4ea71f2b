import type {IncomingMessage, ServerResponse} from 'node:http'
import type {OwnerLogin} from '../owner/owner-login.js'
import type {UserRole} from '../store/types.js'

/** Who is signed in to the console, and the CSRF token every change of theirs must carry. */
export interface ConsoleUser {
  /** The user's stable id (what the audit records as the actor). */
  subject: string
  /** The user's name, for the page. */
  name: string
  csrf: string
}

/** A browser that is not signed in yet: the login form's CSRF token, and a cookie to set if it is new. */
export interface LoginForm {
  csrf: string
  setCookie?: string | undefined
  /** The name of a person signed in (on the consent page) who may not use the console: a member. */
  refusedUser?: string | undefined
}

export type ConsoleLoginResult = {ok: true; cookies: string[]} | {ok: false; status: number; message: string; retryAfter?: number | undefined}

/** The console is for owners (issue 17): members sign in on the consent and account pages only. */
export const CONSOLE_ROLES: readonly UserRole[] = ['owner']

/**
 * What the console needs from a login, and nothing more. Async throughout, so sessions kept in
 * the store plug in. Only a browser session authenticates here: a client's bearer token never
 * does (the console does not read Authorization at all, and refuses it).
 */
export interface ConsoleLogin {
  /** The signed-in owner of this request, or undefined (no session, expired, not signed in, a member, disabled). */
  current(req: IncomingMessage): Promise<ConsoleUser | undefined>
  /** The login form's state for this browser (a session is made when it has none). */
  form(req: IncomingMessage, remoteAddress: string): Promise<LoginForm>
  /** Checks the form's CSRF token, then the credentials, under the login's rate limits. */
  logIn(req: IncomingMessage, remoteAddress: string, fields: {csrf: string | undefined; password: string; username?: string | undefined}): Promise<ConsoleLoginResult>
  /** Ends the session; returns the Set-Cookie values that clear it. */
  logOut(req: IncomingMessage): Promise<string[]>
  /** Constant-time check of a change's CSRF token against the user's session. */
  csrfMatches(req: IncomingMessage, presented: string | undefined): Promise<boolean>
  /**
   * Upstream OpenID Connect sign-in, when configured: the button's text, and the start of the
   * sign-in for this browser's session (the callback admits owners only and sends the browser to
   * `returnTo`). A link, not a form: the console's CSP (form-action 'self') stops a form from
   * being redirected to the provider. Starting it from another site gains nothing: the state is
   * bound to this browser's session, so the code that comes back can only be this browser's own
   * sign-in (no login CSRF; RFC 6749 §10.12, OIDC Core §3.1.2.1).
   */
  upstream?: {label: string; start(req: IncomingMessage, res: ServerResponse, returnTo: string): Promise<void>}
}

/**
 * The console's login (issues 16 and 17): any enabled user with role owner, by name and password
 * (an empty name is the owner's one-field form of before: the primary owner), or through the
 * upstream provider (src/users/oidc/upstream-login.ts, the consent page's relying party). The
 * consent page's sessions, cookies and login budgets. A session is the console's only while its
 * user is an enabled owner: a member signed in on the consent page, or an owner disabled or
 * demoted since, is not signed in here (checked on every request).
 */
export function userConsoleLogin(login: OwnerLogin, upstream?: {label: string; consoleStart(returnTo: string): (req: IncomingMessage, res: ServerResponse) => Promise<void>}): ConsoleLogin {
  const owner = async (req: IncomingMessage) => {
    const session = await login.session(req)
    const user = await login.user(session)
    return {session, user: user && CONSOLE_ROLES.includes(user.role) ? user : undefined, other: user}
  }
  return {
    async current(req) {
      const {session, user} = await owner(req)
      return session && user ? {subject: user.id, name: user.name, csrf: session.csrf} : undefined
    },
    async form(req, remoteAddress) {
      const {session, setCookie} = await login.sessionOrNew(req, remoteAddress)
      const signedIn = await login.user(session)
      return {csrf: session.csrf, setCookie, refusedUser: signedIn && !CONSOLE_ROLES.includes(signedIn.role) ? signedIn.name : undefined}
    },
    async logIn(req, remoteAddress, {csrf, password, username}) {
      const {session, user} = await owner(req)
      if (!session) return {ok: false, status: 400, message: 'This page expired or cookies are blocked; try again.'}
      if (!login.csrfMatches(session, csrf)) return {ok: false, status: 403, message: 'The form could not be verified (CSRF token); try again.'}
      if (user) return {ok: true, cookies: []}
      const result = await login.logIn({req, remoteAddress, session, name: (username ?? '').trim().normalize('NFC'), password, roles: CONSOLE_ROLES})
      return result.ok ? {ok: true, cookies: result.cookies} : {ok: false, status: result.status, message: result.message, retryAfter: result.retryAfter}
    },
    async logOut(req) {
      return [await login.logOut(await login.session(req))]
    },
    async csrfMatches(req, presented) {
      const {session, user} = await owner(req)
      return session !== undefined && user !== undefined && login.csrfMatches(session, presented)
    },
    ...(upstream && {
      upstream: {
        label: upstream.label,
        start: (req, res, returnTo) => upstream.consoleStart(returnTo)(req, res),
      },
    }),
  }
}
