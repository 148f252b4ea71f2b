import type {Clock} from '../../clock.js'
import {signAccessToken} from '../access-token.js'
import {DEFAULT_ACCESS_TOKEN_TTL} from '../keys/generate.js'
import type {Keyring} from '../keys/keyring.js'
import type {ResourceResolver} from '../resource.js'
import {clientCredentialsScopes} from '../scopes.js'
import type {Grant} from './grant.js'

/**
 * RFC 6749 §4.4: a confidential client gets an access token for itself. No refresh token
 * (§4.4.3: "A refresh token SHOULD NOT be included"); the subject is the client.
 */
export function clientCredentialsGrant({issuer, keyring, clock, resolveResource}: {issuer: string; keyring: Keyring; clock: Clock; resolveResource: ResourceResolver}): Grant {
  return {
    type: 'client_credentials',
    async handle({client, params}) {
      const scopes = clientCredentialsScopes(params.get('scope'), client.scopes)
      const audience = resolveResource(params.get('resource'))
      const ttl = client.accessTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL
      const {token, expiresIn} = await signAccessToken(
        {clientId: client.id, subject: client.id, audience, scopes, ttlSeconds: ttl},
        {issuer, keyring, clock},
      )
      return {response: {access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scopes.join(' ')}, subject: client.id}
    },
  }
}
