import {randomBytes} from 'node:crypto'
import {codeVerifierMatches} from '../authorize/pkce.js'
import {InvalidGrant, InvalidRequest, InvalidTarget} from '../errors.js'
import type {Grant, RefreshingGrantDeps} from './grant.js'
import {grantTokenResponse} from './issue-tokens.js'
import {newRefreshToken, opaqueTokenHash} from './opaque-tokens.js'

/** How long a refresh token lives unused (each rotation starts a new one, within the grant's life). */
export const REFRESH_TOKEN_TTL_MS = 30 * 86_400_000

/**
 * OAuth 2.1 §4.1.3: exchange a code for tokens. The code must be this client's, unexpired and
 * unused; the PKCE verifier must match its challenge (RFC 7636 §4.6); redirect_uri must repeat
 * the authorization request's; a `resource` must be the one the code was bound to (RFC 8707 §2.2).
 * Redemption is one immediate transaction, so of two racing requests one wins; a code presented
 * again revokes the grant and everything issued from it (OAuth 2.1 §4.1.3, RFC 9700 §4.5.3).
 */
export function authorizationCodeGrant({
  store,
  issuer,
  keyring,
  clock,
  resolveResource,
  random = randomBytes,
  refreshTtlMs = REFRESH_TOKEN_TTL_MS,
}: RefreshingGrantDeps): Grant {
  return {
    type: 'authorization_code',
    async handle({client, params}) {
      const code = params.get('code')
      if (!code) throw new InvalidRequest('code is required')
      const verifier = params.get('code_verifier')
      const redirectUri = params.get('redirect_uri')
      const resource = params.get('resource')
      const now = clock.now()
      const refreshToken = client.grantTypes.includes('refresh_token') ? newRefreshToken(random) : undefined
      const result = await store.grants.redeemCode(opaqueTokenHash(code), {
        clientId: client.id,
        now,
        refresh: refreshToken === undefined ? undefined : {hash: opaqueTokenHash(refreshToken), createdAt: now, expiresAt: now + refreshTtlMs},
        check(c) {
          if (verifier === undefined) throw new InvalidRequest('code_verifier is required (PKCE)')
          if (!codeVerifierMatches(c.codeChallenge, verifier)) throw new InvalidGrant('the code_verifier does not match the code_challenge')
          if (c.redirectUriGiven ? redirectUri !== c.redirectUri : redirectUri !== undefined && redirectUri !== c.redirectUri) {
            throw new InvalidGrant('redirect_uri differs from the one in the authorization request')
          }
          if (resource !== undefined && resolveResource(resource) !== c.resource) {
            throw new InvalidTarget('resource differs from the one the code was issued for')
          }
        },
      })
      switch (result.outcome) {
        case 'redeemed':
          return grantTokenResponse({client, grant: result.grant, scopes: result.code.scopes, refreshToken}, {issuer, keyring, clock})
        case 'replayed':
          // The grant's revocation reaches every cache through the store's change feed.
          throw new InvalidGrant('the authorization code was already used; every token issued from it is revoked')
        case 'expired':
          throw new InvalidGrant('the authorization code expired')
        case 'grant_revoked':
          throw new InvalidGrant('the authorization was revoked')
        default:
          // Unknown, or another client's code: the same answer (no oracle).
          throw new InvalidGrant('the authorization code is not valid')
      }
    },
  }
}
