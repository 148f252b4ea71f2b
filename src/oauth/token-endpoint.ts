import type {Handler} from '../http/router.js'
import {readParams} from '../http/body.js'
import {NO_STORE, sendJson} from '../http/respond.js'
import type {ClientAuthenticator} from './client-auth.js'
import type {AuditLog} from '../audit/audit-log.js'
import {InvalidRequest, InvalidTarget, OAuthError, TooManyRequests, UnauthorizedClient, UnsupportedGrantType} from './errors.js'
import type {RequestLimiter} from './request-limiter.js'
import type {Grant} from './grants/grant.js'
import {StoreUnavailableError} from '../store/errors.js'

/**
 * POST /oauth/token (RFC 6749 §3.2) as a pipeline: parameters, grant type, client
 * authentication, the client's right to the grant, then the grant itself.
 */
export function createTokenEndpoint({
  grants,
  authenticate,
  maxBodyBytes,
  audit,
  limiter,
  defaultRateLimit,
}: {
  grants: Grant[]
  authenticate: ClientAuthenticator
  maxBodyBytes: number
  audit: AuditLog
  limiter: RequestLimiter
  /** Token requests per minute per client when the client sets none; null: no limit. */
  defaultRateLimit: number | null
}): Handler {
  const registry = new Map(grants.map((g) => [g.type, g]))
  return async (req, res, ctx) => {
    let type: string | undefined
    try {
      const params = await readParams(req, maxBodyBytes, {
        onRepeat: (key) => (key === 'resource' ? new InvalidTarget('one resource per token request') : new InvalidRequest(`parameter ${key} is repeated`)),
      })
      type = params.get('grant_type')
      if (!type) throw new InvalidRequest('grant_type is required')
      const grant = registry.get(type)
      if (!grant) throw new UnsupportedGrantType(`grant type ${JSON.stringify(type.slice(0, 100))} is not supported`)
      const {client} = await authenticate(req, params, {remoteAddress: ctx.remoteAddress, allowPublic: type !== 'client_credentials'})
      ctx.clientId = client.id
      if (!client.grantTypes.includes(type)) throw new UnauthorizedClient(`this client may not use the ${type} grant`)
      const wait = limiter.take(client.id, client.tokenRateLimit ?? defaultRateLimit)
      if (wait > 0) throw new TooManyRequests(wait, 'token request rate limit reached; retry later')
      const {response, subject} = await grant.handle({client, params})
      sendJson(res, 200, response, NO_STORE)
      // Whom the token is for (issue 17: a person's id, or the client itself): the grant says, as it signed the token's `sub`.
      audit.record({event: 'token.issued', clientId: client.id, subject, method: type, outcome: 'ok', detail: {scope: response.scope}})
    } catch (error) {
      // The store away is answered 429 temporarily_unavailable (src/http/respond.ts): recorded as such.
      const outcome = error instanceof TooManyRequests ? 'rate_limited' : error instanceof OAuthError ? error.code : error instanceof StoreUnavailableError ? 'temporarily_unavailable' : 'error'
      // The client is named when known: authenticated, or named by a refused authentication (client-auth.ts).
      const clientId = ctx.clientId ?? (error instanceof OAuthError ? error.clientId : undefined) ?? null
      audit.record({event: 'token.refused', clientId, method: type?.slice(0, 100) ?? null, outcome, detail: {remote: ctx.remoteAddress}})
      throw error
    }
  }
}
