import type {Clock} from '../../clock.js'
import {limits} from '../../clients/validate.js'
import type {ClientRecord, GrantRecord} from '../../store/types.js'
import {signAccessToken} from '../access-token.js'
import {DEFAULT_ACCESS_TOKEN_TTL} from '../keys/generate.js'
import type {Keyring} from '../keys/keyring.js'
import type {GrantResult} from './grant.js'

export const MAX_ACCESS_TOKEN_TTL_MS = limits.maxTokenTtl * 1000

/** The token response of a grant: an access token pointing at the grant (`gid`), and the refresh token when one was made. */
export async function grantTokenResponse(
  {client, grant, scopes, refreshToken}: {client: ClientRecord; grant: GrantRecord; scopes: string[]; refreshToken: string | undefined},
  {issuer, keyring, clock}: {issuer: string; keyring: Keyring; clock: Clock},
): Promise<GrantResult> {
  const {token, expiresIn} = await signAccessToken(
    {clientId: client.id, subject: grant.subject, audience: grant.resource, scopes, ttlSeconds: client.accessTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL, grantId: grant.id},
    {issuer, keyring, clock},
  )
  return {
    response: {access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scopes.join(' '), ...(refreshToken ? {refresh_token: refreshToken} : {})},
    subject: grant.subject,
  }
}
