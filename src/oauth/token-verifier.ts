import type {Clock} from '../clock.js'
import {InvalidTokenError, type Principal, type TokenVerifier} from '../principal/principal.js'
import {verifyAccessTokenJwt, type VerifiedAccessToken} from './access-token.js'
import type {ClientDirectory} from './client-directory.js'
import type {Keyring} from './keys/keyring.js'
import type {RevocationList} from './revocation-list.js'

/**
 * The TokenVerifier the gateway uses (and /oauth/info, introspection). A token's signature and
 * claims are verified once and the result cached by the token string; expiry, revocation of the
 * token and revocation of its client are checked on every call, so a revocation is effective on
 * the very next request, and so is the end of the signing key's verify-until.
 */
export function createTokenVerifier({
  issuer,
  audiences,
  keyring,
  clients,
  revocations,
  clock,
  revokedGrants,
  maxCached = 10_000,
}: {
  issuer: string
  audiences: readonly string[]
  keyring: Keyring
  clients: ClientDirectory
  revocations: RevocationList
  clock: Clock
  /** Grants revoked (consent revoked, code or refresh token replayed): their access tokens (`gid`) are refused. */
  revokedGrants?: {refresh(): Promise<void>; has(grantId: string): boolean}
  maxCached?: number
}): TokenVerifier & {inspect(token: string): Promise<VerifiedAccessToken & {clientName: string; clientScopes: readonly string[]}>} {
  const cache = new Map<string, VerifiedAccessToken>()

  async function inspect(token: string) {
    if (token.length > 8192) throw new InvalidTokenError('the access token is too long')
    let verified = cache.get(token)
    if (!verified) {
      await keyring.refresh()
      verified = await verifyAccessTokenJwt(token, {issuer, audiences, keyring, clock})
      if (cache.size >= maxCached) cache.clear()
      cache.set(token, verified)
    } else if (verified.expiresAt <= clock.now()) {
      cache.delete(token)
      throw new InvalidTokenError('the access token expired')
    } else {
      // A key past its verify-until (or pruned) stops verifying the tokens it signed, cached or not.
      await keyring.refresh()
      if (!keyring.verifier(verified.kid)) {
        cache.delete(token)
        throw new InvalidTokenError('unknown signing key')
      }
    }
    await revocations.refresh()
    if (revocations.has(verified.jti)) throw new InvalidTokenError('the access token was revoked')
    if (verified.grantId !== undefined && revokedGrants) {
      await revokedGrants.refresh()
      if (revokedGrants.has(verified.grantId)) throw new InvalidTokenError('the authorization behind the access token was revoked')
    }
    const client = await clients.get(verified.clientId)
    if (!client || client.revokedAt !== null) throw new InvalidTokenError('the client was revoked')
    return {...verified, clientName: client.name, clientScopes: client.scopes}
  }

  return {
    inspect,
    async verify(token: string): Promise<Principal> {
      const t = await inspect(token)
      return {
        clientId: t.clientId,
        clientName: t.clientName,
        subject: t.subject,
        scopes: t.scopes,
        clientScopes: t.clientScopes,
        audience: t.audience,
        tokenId: t.jti,
        expiresAt: t.expiresAt,
        ...(t.grantId !== undefined ? {grantId: t.grantId} : {}),
      }
    },
    // The same checks as inspect, without the signature and expiry: the revocation list, the
    // revoked grants and the client directory each reload when the store's data_version moved
    // (another process committed: the CLI) or when this process revoked something itself.
    async revocation(principal: Principal): Promise<string | undefined> {
      await revocations.refresh()
      if (revocations.has(principal.tokenId)) return 'the access token was revoked'
      if (principal.grantId !== undefined && revokedGrants) {
        await revokedGrants.refresh()
        if (revokedGrants.has(principal.grantId)) return 'the authorization behind the access token was revoked'
      }
      const client = await clients.get(principal.clientId)
      if (!client || client.revokedAt !== null) return 'the client was revoked'
      return undefined
    },
  }
}

export type AccessTokenVerifier = ReturnType<typeof createTokenVerifier>
