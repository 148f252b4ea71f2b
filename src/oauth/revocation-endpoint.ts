import type {AuditLog} from '../audit/audit-log.js'
import {InvalidTokenError} from '../principal/principal.js'
import {readParams} from '../http/body.js'
import {NO_STORE} from '../http/respond.js'
import type {Handler} from '../http/router.js'
import type {ClientAuthenticator} from './client-auth.js'
import {InvalidRequest} from './errors.js'
import type {RevocationList} from './revocation-list.js'
import type {AccessTokenVerifier} from './token-verifier.js'

/**
 * POST /oauth/revoke (RFC 7009). The answer is 200 whether or not anything was revoked (§2.2),
 * and a client can revoke only its own tokens: another client's token is left alone.
 */
export function createRevocationEndpoint({
  authenticate,
  verifier,
  revocations,
  maxBodyBytes,
  extraRevokers = [],
  audit,
}: {
  audit: AuditLog
  authenticate: ClientAuthenticator
  verifier: AccessTokenVerifier
  revocations: RevocationList
  maxBodyBytes: number
  /** Other token kinds (refresh tokens): each returns true when it recognised and handled the token. */
  extraRevokers?: Array<(token: string, clientId: string) => Promise<boolean>>
}): Handler {
  return async (req, res, ctx) => {
    const params = await readParams(req, maxBodyBytes)
    const {client} = await authenticate(req, params, {remoteAddress: ctx.remoteAddress, allowPublic: true})
    ctx.clientId = client.id
    const token = params.get('token')
    if (!token) throw new InvalidRequest('token is required')
    let handled = false
    for (const revoke of extraRevokers) {
      if (await revoke(token, client.id)) {
        handled = true
        break
      }
    }
    if (!handled) {
      try {
        const t = await verifier.inspect(token)
        if (t.clientId === client.id) {
          await revocations.add({jti: t.jti, clientId: t.clientId, expiresAt: t.expiresAt})
          audit.record({event: 'token.revoked', clientId: client.id, method: 'revocation_endpoint', outcome: 'ok', detail: {jti: t.jti}})
        }
      } catch (error) {
        // Invalid, expired or already revoked: nothing to do (RFC 7009 §2.2).
        if (!(error instanceof InvalidTokenError)) throw error
      }
    }
    res.writeHead(200, NO_STORE).end()
  }
}
