import {InvalidTokenError} from '../principal/principal.js'
import {readParams} from '../http/body.js'
import {NO_STORE, sendJson} from '../http/respond.js'
import type {Handler} from '../http/router.js'
import type {ClientAuthenticator} from './client-auth.js'
import {InvalidRequest} from './errors.js'
import type {AccessTokenVerifier} from './token-verifier.js'

/**
 * POST /oauth/introspect (RFC 7662). The caller must authenticate, and learns only about its own
 * tokens: any other client's token, like an invalid, expired or revoked one, is
 * `{"active": false}` (RFC 7662 §2.2, §4: no information leak).
 */
export function createIntrospectionEndpoint({authenticate, verifier, issuer, maxBodyBytes}: {authenticate: ClientAuthenticator; verifier: AccessTokenVerifier; issuer: string; maxBodyBytes: number}): Handler {
  return async (req, res, ctx) => {
    const params = await readParams(req, maxBodyBytes)
    const {client} = await authenticate(req, params, {remoteAddress: ctx.remoteAddress, allowPublic: false})
    ctx.clientId = client.id
    const token = params.get('token')
    if (!token) throw new InvalidRequest('token is required')
    let body: Record<string, unknown> = {active: false}
    try {
      const t = await verifier.inspect(token)
      if (t.clientId === client.id) {
        body = {
          active: true,
          scope: t.scopes.join(' '),
          client_id: t.clientId,
          token_type: 'Bearer',
          exp: Math.floor(t.expiresAt / 1000),
          iat: Math.floor(t.issuedAt / 1000),
          sub: t.subject,
          aud: t.audience,
          iss: issuer,
          jti: t.jti,
          // Who the token acts for (issue 17): a person (sub = their stable user id, username
          // their name: RFC 7662 §2.2) or the client itself (client credentials: sub = client_id).
          subject_type: t.user ? 'user' : 'client',
          ...(t.user ? {username: t.user.name} : {}),
        }
      }
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error
    }
    sendJson(res, 200, body, NO_STORE)
  }
}
