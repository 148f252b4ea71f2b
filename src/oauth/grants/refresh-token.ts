import {randomBytes} from 'node:crypto'
import type {Clock} from '../../clock.js'
import type {Store} from '../../store/types.js'
import {InvalidGrant, InvalidRequest, InvalidTarget} from '../errors.js'
import {grantedScopes} from '../scopes.js'
import {REFRESH_TOKEN_TTL_MS} from './authorization-code.js'
import type {Grant, RefreshingGrantDeps} from './grant.js'
import {grantTokenResponse} from './issue-tokens.js'
import {opaqueTokenHash, REFRESH_TOKEN_PREFIX} from './opaque-tokens.js'
import {decideRefresh} from './refresh-rotation.js'
import {revokedGrantReason} from './revoked-grant-reason.js'

/**
 * How long after a rotation the old refresh token may be presented again by the same client:
 * its response (with the new token) may have been lost on the way. Within it, while the
 * successor is unused, the retry gets the same successor again (never a new one); otherwise
 * reuse revokes the whole family. The rule: src/oauth/grants/refresh-rotation.ts.
 */
export const REFRESH_GRACE_MS = 60_000

/**
 * OAuth 2.1 §4.3: refresh with rotation (§4.3.1; MCP authorization: "authorization servers MUST
 * rotate refresh tokens" for public clients). The scope may narrow but never widen (RFC 6749 §6:
 * "MUST NOT include any scope not originally granted"); the resource stays the grant's. Reuse
 * of a rotated token revokes the family (RFC 9700 §4.14.2) unless it is an idempotent retry
 * within the grace period (`decideRefresh`). The read, the decision and the writes are one
 * immediate store transaction, so racing refreshes are serialised.
 */
export function refreshTokenGrant({
  store,
  issuer,
  keyring,
  clock,
  resolveResource,
  graceMs = REFRESH_GRACE_MS,
  random = randomBytes,
  refreshTtlMs = REFRESH_TOKEN_TTL_MS,
}: RefreshingGrantDeps & {
  graceMs?: number
}): Grant {
  return {
    type: 'refresh_token',
    async handle({client, params}) {
      const presented = params.get('refresh_token')
      if (!presented) throw new InvalidRequest('refresh_token is required')
      const scope = params.get('scope')
      const resource = params.get('resource')
      const now = clock.now()
      let scopes: string[] = []
      const result = await store.grants.exchangeRefreshToken(opaqueTokenHash(presented), now, (view) =>
        decideRefresh(view, {
          presented,
          clientId: client.id,
          now,
          graceMs,
          refreshTtlMs,
          random,
          check(grant, token) {
            scopes = grantedScopes(scope, token.scopes)
            if (resource !== undefined && resolveResource(resource) !== grant.resource) throw new InvalidTarget('resource differs from the one this grant is for')
          },
        }),
      )
      switch (result.outcome) {
        case 'rotated':
          return grantTokenResponse({client, grant: result.grant, scopes, refreshToken: result.refreshToken}, {issuer, keyring, clock})
        case 'replayed':
          // The family's revocation reaches every cache through the store's change feed.
          throw new InvalidGrant('the refresh token was already used; the whole authorization is revoked')
        case 'expired':
          throw new InvalidGrant('the refresh token expired')
        case 'grant_revoked': {
          const record = await store.grants.findRefreshToken(opaqueTokenHash(presented))
          throw new InvalidGrant(record && record.clientId === client.id ? await revokedGrantReason(store, record.grantId, 'the refresh token was revoked') : 'the refresh token was revoked')
        }
        default:
          throw new InvalidGrant('the refresh token is not valid')
      }
    },
  }
}

/**
 * For the revocation endpoint (RFC 7009 §2.1): revoking a refresh token revokes its grant, and
 * so the access tokens issued under it. Another client's token is left alone.
 */
export function refreshTokenRevoker({store, clock}: {store: Store; clock: Clock}) {
  return async (token: string, clientId: string): Promise<boolean> => {
    if (!token.startsWith(REFRESH_TOKEN_PREFIX)) return false
    const record = await store.grants.findRefreshToken(opaqueTokenHash(token))
    if (record && record.clientId === clientId) {
      await store.grants.revoke(record.grantId, clock.now(), 'refresh token revoked by the client')
    }
    return true
  }
}
