import type {Clock} from '../clock.js'
import {InvalidTokenError, type Principal, type TokenVerifier} from '../principal/principal.js'
import {verifyAccessTokenJwt, type VerifiedAccessToken} from './access-token.js'
import type {ClientDirectory} from './client-directory.js'
import type {Keyring} from './keys/keyring.js'
import type {RevocationList} from './revocation-list.js'
import type {Person} from '../users/user-directory.js'
import {StoreUnavailableError} from '../store/errors.js'

/**
 * A token whose signature and claims verified but that is refused all the same (the token, its
 * grant or its client revoked): the client is known, and the audit trail names it.
 */
export class RefusedTokenError extends InvalidTokenError {
  constructor(
    description: string,
    readonly clientId: string,
  ) {
    super(description)
  }
}

/**
 * The gateway's view of `verifier`: the same answers, and every refused token reported to
 * `onRefused` with its client id when the token verified (RefusedTokenError), else null. The
 * gateway answers those 401 (RFC 6750 §3.1 invalid_token); server.ts records them as
 * `token.refused`. A request without a token (discovery, MCP authorization §Authorization Flow
 * Steps) is not a refusal of a token and is not reported. A token that cannot be checked because
 * the store is away (StoreUnavailableError: answered 429 with Retry-After) is reported too, with
 * `outcome` temporarily_unavailable, so an outage leaves its refusals in the trail.
 */
export function reportingRefusals(
  verifier: TokenVerifier,
  onRefused: (refusal: {clientId: string | null; reason: string; outcome: 'invalid_token' | 'temporarily_unavailable'}) => void,
): TokenVerifier {
  return {
    async verify(token) {
      try {
        return await verifier.verify(token)
      } catch (error) {
        if (error instanceof InvalidTokenError) onRefused({clientId: error instanceof RefusedTokenError ? error.clientId : null, reason: error.description, outcome: 'invalid_token'})
        else if (error instanceof StoreUnavailableError) onRefused({clientId: null, reason: 'the store is unavailable', outcome: 'temporarily_unavailable'})
        throw error
      }
    },
    ...(verifier.revocation ? {revocation: verifier.revocation.bind(verifier)} : {}),
  }
}

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
  users,
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
  /**
   * The people (issue 17): a token of an interactive grant (one with `gid`) acts for the user
   * its `sub` names, and is refused once that user is disabled or removed.
   */
  users?: {find(id: string): Promise<Person | undefined>}
  maxCached?: number
}): TokenVerifier & {inspect(token: string): Promise<VerifiedAccessToken & {clientName: string; clientScopes: readonly string[]; user: Person | undefined}>} {
  const cache = new Map<string, VerifiedAccessToken>()

  /** The person behind an interactive token; undefined for client credentials; throws when they are gone. */
  async function person(t: {grantId: string | undefined; subject: string}): Promise<Person | undefined> {
    if (t.grantId === undefined || !users) return undefined
    const user = await users.find(t.subject)
    if (!user) throw new InvalidTokenError('the user was disabled or removed')
    return user
  }

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
      throw new RefusedTokenError('the access token expired', verified.clientId)
    } else {
      // A key past its verify-until (or pruned) stops verifying the tokens it signed, cached or not.
      await keyring.refresh()
      if (!keyring.verifier(verified.kid)) {
        cache.delete(token)
        throw new RefusedTokenError('unknown signing key', verified.clientId)
      }
    }
    await revocations.refresh()
    if (revocations.has(verified.jti)) throw new RefusedTokenError('the access token was revoked', verified.clientId)
    if (verified.grantId !== undefined && revokedGrants) {
      await revokedGrants.refresh()
      if (revokedGrants.has(verified.grantId)) throw new RefusedTokenError('the authorization behind the access token was revoked', verified.clientId)
    }
    const client = await clients.get(verified.clientId)
    if (!client || client.revokedAt !== null) throw new RefusedTokenError('the client was revoked', verified.clientId)
    return {...verified, clientName: client.name, clientScopes: client.scopes, user: await person(verified)}
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
        ...(t.user ? {user: t.user} : {}),
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
      if (principal.user && users && !(await users.find(principal.user.id))) return 'the user was disabled or removed'
      return undefined
    },
  }
}

export type AccessTokenVerifier = ReturnType<typeof createTokenVerifier>
