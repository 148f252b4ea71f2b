/**
 * Failures of the authorization endpoint. Which one is thrown decides where the owner's browser
 * goes (RFC 6749 §4.1.2.1):
 * - `AuthorizePageError`: the client or redirect URI cannot be trusted, so an error page is
 *   shown and the browser is never redirected (RFC 9700 §4.11, open redirector);
 * - `AuthorizeRedirectError`: any other problem goes back to the client's redirect URI with
 *   `error`, `state` and `iss`.
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
    readonly target: {redirectUri: string; state: string | undefined},
  ) {
    super(description)
  }
}
