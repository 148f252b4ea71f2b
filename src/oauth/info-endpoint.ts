import {InvalidTokenError} from '../principal/principal.js'
import {bearerChallenge} from '../http/challenge.js'
import {HttpError} from '../http/errors.js'
import {NO_STORE, sendJson} from '../http/respond.js'
import type {Handler} from '../http/router.js'
import type {AccessTokenVerifier} from './token-verifier.js'

/** GET /oauth/info: who a bearer token belongs to (CONTRACT.md), for scripts checking their setup. */
export function createInfoEndpoint({verifier}: {verifier: AccessTokenVerifier}): Handler {
  return async (req, res, ctx) => {
    const header = req.headers.authorization ?? ''
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header)
    if (!match) {
      throw new HttpError(401, {error: 'invalid_request', error_description: 'a Bearer token is required'}, {'WWW-Authenticate': 'Bearer'})
    }
    try {
      const t = await verifier.inspect(match[1]!)
      ctx.clientId = t.clientId
      sendJson(res, 200, {client_id: t.clientId, client_name: t.clientName, scope: t.scopes.join(' '), expires_at: new Date(t.expiresAt).toISOString()}, NO_STORE)
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error
      throw new HttpError(401, {error: 'invalid_token', error_description: error.description}, {
        'WWW-Authenticate': bearerChallenge({error: 'invalid_token', error_description: error.description}),
      })
    }
  }
}
