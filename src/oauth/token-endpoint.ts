import type {Handler} from '../http/router.js'
import {readParams} from '../http/body.js'
import {NO_STORE, sendJson} from '../http/respond.js'
import type {ClientAuthenticator} from './client-auth.js'
import {InvalidRequest, InvalidTarget, UnauthorizedClient, UnsupportedGrantType} from './errors.js'
import type {Grant} from './grants/grant.js'

/**
 * POST /oauth/token (RFC 6749 §3.2) as a pipeline: parameters, grant type, client
 * authentication, the client's right to the grant, then the grant itself.
 */
export function createTokenEndpoint({grants, authenticate, maxBodyBytes}: {grants: Grant[]; authenticate: ClientAuthenticator; maxBodyBytes: number}): Handler {
  const registry = new Map(grants.map((g) => [g.type, g]))
  return async (req, res, ctx) => {
    const params = await readParams(req, maxBodyBytes, {
      onRepeat: (key) => (key === 'resource' ? new InvalidTarget('one resource per token request') : new InvalidRequest(`parameter ${key} is repeated`)),
    })
    const type = params.get('grant_type')
    if (!type) throw new InvalidRequest('grant_type is required')
    const grant = registry.get(type)
    if (!grant) throw new UnsupportedGrantType(`grant type ${JSON.stringify(type.slice(0, 100))} is not supported`)
    const {client} = await authenticate(req, params, {remoteAddress: ctx.remoteAddress, allowPublic: type !== 'client_credentials'})
    ctx.clientId = client.id
    if (!client.grantTypes.includes(type)) throw new UnauthorizedClient(`this client may not use the ${type} grant`)
    sendJson(res, 200, await grant.handle({client, params}), NO_STORE)
  }
}
