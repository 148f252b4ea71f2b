import type {IncomingMessage} from 'node:http'
import {OWNER_SUBJECT, type OwnerLogin} from '../owner/owner-login.js'

/** Who is signed in to the console, and the CSRF token every change of theirs must carry. */
export interface ConsoleUser {
  subject: string
  csrf: string
}

/** A browser that is not signed in yet: the login form's CSRF token, and a cookie to set if it is new. */
export interface LoginForm {
  csrf: string
  setCookie?: string | undefined
}

export type ConsoleLoginResult = {ok: true; cookies: string[]} | {ok: false; status: number; message: string; retryAfter?: number | undefined}

/**
 * What the console needs from a login, and nothing more: the owner's password today
 * (src/owner/owner-login.ts), a person's account or an upstream sign-in later. Async throughout,
 * so sessions kept in the store plug in. Only a browser session authenticates here: a client's
 * bearer token never does (the console does not read Authorization at all, and refuses it).
 */
export interface ConsoleLogin {
  /** The signed-in user of this request, or undefined (no session, expired, or not signed in). */
  current(req: IncomingMessage): Promise<ConsoleUser | undefined>
  /** The login form's state for this browser (a session is made when it has none). */
  form(req: IncomingMessage, remoteAddress: string): Promise<LoginForm>
  /** Checks the form's CSRF token, then the credentials, under the login's rate limits. */
  logIn(req: IncomingMessage, remoteAddress: string, fields: {csrf: string | undefined; password: string; username?: string | undefined}): Promise<ConsoleLoginResult>
  /** Ends the session; returns the Set-Cookie values that clear it. */
  logOut(req: IncomingMessage): Promise<string[]>
  /** Constant-time check of a change's CSRF token against the user's session. */
  csrfMatches(req: IncomingMessage, presented: string | undefined): Promise<boolean>
}

/** The console's login through the owner's password: the consent page's sessions, cookie and budgets. */
export function ownerConsoleLogin(login: OwnerLogin): ConsoleLogin {
  return {
    async current(req) {
      const s = await login.session(req)
      return s && s.ownerAt !== null ? {subject: OWNER_SUBJECT, csrf: s.csrf} : undefined
    },
    async form(req, remoteAddress) {
      const {session, setCookie} = await login.sessionOrNew(req, remoteAddress)
      return {csrf: session.csrf, setCookie}
    },
    async logIn(req, remoteAddress, {csrf, password}) {
      const session = await login.session(req)
      if (!session) return {ok: false, status: 400, message: 'This page expired or cookies are blocked; try again.'}
      if (!login.csrfMatches(session, csrf)) return {ok: false, status: 403, message: 'The form could not be verified (CSRF token); try again.'}
      if (session.ownerAt !== null) return {ok: true, cookies: []}
      const result = await login.logIn({req, remoteAddress, session, password})
      return result.ok ? {ok: true, cookies: result.cookies} : {ok: false, status: result.status, message: result.message, retryAfter: result.retryAfter}
    },
    async logOut(req) {
      return [await login.logOut(await login.session(req))]
    },
    async csrfMatches(req, presented) {
      const s = await login.session(req)
      return s !== undefined && s.ownerAt !== null && login.csrfMatches(s, presented)
    },
  }
}
