import type {ClientRecord} from '../../store/types.js'

/**
 * Failures of the authorization endpoint. Which one is thrown decides where the owner's browser
 * goes (RFC 6749 §4.1.2.1):
 * - `AuthorizePageError`: the client or redirect URI cannot be trusted, so an error page is
 *   shown and the browser is never redirected (RFC 9700 §4.11, open redirector);
 * - `AuthorizeRedirectError`: any other problem, found once client and redirect URI are valid. It
 *   goes back to the redirect URI with `error`, `state` and `iss` only for a client the owner
 *   created or approved (RFC 9700 §4.11.2); for any other client it is shown as a page too, so
 *   that a client anyone can register does not make this endpoint an open redirector.
 */
export class AuthorizePageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail)
  }
}

export class AuthorizeRedirectError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly target: {redirectUri: string; state: string | undefined; client: ClientRecord},
  ) {
    super(description)
  }
}
