/**
 * Where the authorization server and the gateway meet (docs/DESIGN.md), in a module of its own
 * that both import (neither side imports the other): the gateway asks a
 * TokenVerifier who is behind a bearer token, and gets a Principal or an InvalidTokenError.
 * The gateway never sees signing keys or the store; src/oauth implements this interface.
 */
export interface Principal {
  /** The OAuth client the token was issued to. */
  clientId: string
  clientName: string
  /** Who the token acts for: the client itself (client_credentials) or the owner who consented. */
  subject: string
  scopes: readonly string[]
  /**
   * The scopes the client is registered for (its ceiling, not this token's); absent when the
   * verifier does not know them. What the child is told in GATEHOUSE_SCOPES (child-env.ts).
   */
  clientScopes?: readonly string[]
  /** The resource (RFC 8707) the token is for; always checked against the gateway's own URL. */
  audience: string
  /** The token's jti. */
  tokenId: string
  /** Expiry, milliseconds since the epoch. */
  expiresAt: number
  /** The grant (consent, refresh token family) the token was issued under, where there is one. */
  grantId?: string
  /** The person the token acts for (interactive grants, issue 17); absent for client credentials. */
  user?: {id: string; name: string; role: 'owner' | 'member'}
}

/** Why a token was refused; `description` is safe to send back in WWW-Authenticate. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError'
  constructor(readonly description: string) {
    super(description)
  }
}

export interface TokenVerifier {
  /** Resolves the principal, or rejects with InvalidTokenError (bad signature, expired, revoked, ...). */
  verify(token: string): Promise<Principal>
  /**
   * Why access given earlier to `principal` has been withdrawn since (its client, its token or
   * its grant was revoked, by this process or another one sharing the store), or undefined
   * while it stands. Expiry is not considered. Called for open sessions about four times a
   * second (gateway.ts), so it must answer from memory when nothing changed in the store.
   */
  revocation?(principal: Principal): Promise<string | undefined>
}
