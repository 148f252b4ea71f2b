import type {RandomBytes} from '../../clients/credentials.js'
import type {GrantRecord, RefreshFamilyView, RefreshTokenRecord, RefreshWrite} from '../../store/types.js'
import {opaqueTokenHash, successorRefreshToken} from './opaque-tokens.js'

/** What a refresh exchange came to; the refresh grant maps it to a response or an OAuth error. */
export type RefreshOutcome =
  /** `refreshToken` is the successor in clear; `retried` when it is the same one handed out before. */
  | {outcome: 'rotated'; grant: GrantRecord; token: RefreshTokenRecord; refreshToken: string; retried: boolean}
  /** A rotated-away token was presented outside what the grace allows: the whole family was revoked. */
  | {outcome: 'replayed'; reason: string}
  | {outcome: 'unknown' | 'expired' | 'wrong_client' | 'grant_revoked'}

export interface RefreshRotationInput {
  /** The refresh token presented, in clear (the successor is derived from it). */
  presented: string
  clientId: string
  /** ms since the epoch. */
  now: number
  /** How long after a rotation the same client may present the old token again, ms (0: never). */
  graceMs: number
  /** How long a new refresh token lives unused, ms (capped by the grant's own expiry). */
  refreshTtlMs: number
  random: RandomBytes
  /** Scope and resource checks of the request; may throw an OAuth error, which writes nothing. */
  check(grant: GrantRecord, token: RefreshTokenRecord): void
}

/**
 * The rule of refresh token rotation (OAuth 2.1 §4.3.1; MCP authorization: "authorization
 * servers MUST rotate refresh tokens" for public clients; RFC 9700 §4.14.2), as a pure decision
 * over what the store read in its transaction (`exchangeRefreshToken`):
 *
 * - A live token is consumed and replaced by one successor, derived from it and a fresh salt
 *   (`successorRefreshToken`), so the family keeps exactly one live refresh token.
 * - A rotated-away token presented again is a retry (its response was lost) only while all of
 *   these hold: within `graceMs` of the rotation, its successor is unused, unrevoked and unexpired,
 *   the successor is the family's only live token, and the presented token re-derives the
 *   recorded successor. Then the SAME successor is returned again (idempotent): the grace never
 *   mints a second branch, so a thief who replays the old token holds nothing the rightful
 *   client does not, and the first time the two diverge the family dies.
 * - Any other presentation of a rotated-away token (after the grace, once its successor was
 *   used or revoked, or when the family has branched) revokes the whole family, its access
 *   tokens included (RFC 9700 §4.14.2: "the authorization server cannot determine which party
 *   submitted the invalid refresh token ... it will revoke the active refresh token").
 * - A live token in a family that holds more than one live token (a branch, whatever made it)
 *   revokes the family too.
 *
 * Returns the writes for the store to apply and the outcome. Throws what `check` throws.
 */
export function decideRefresh(view: RefreshFamilyView | undefined, input: RefreshRotationInput): {writes: RefreshWrite[]; result: RefreshOutcome} {
  const {presented, clientId, now, graceMs} = input
  const none = (result: RefreshOutcome) => ({writes: [], result})
  if (!view) return none({outcome: 'unknown'})
  const {token, grant, successor, liveInFamily} = view
  // Another client's token: refused without touching the family (RFC 6749 §6, §10.4); its
  // rightful holder keeps it.
  if (token.clientId !== clientId) return none({outcome: 'wrong_client'})
  if (!grant || grant.revokedAt !== null || token.revokedAt !== null) return none({outcome: 'grant_revoked'})
  const revokeFamily = (reason: string) => ({writes: [{op: 'revoke_grant' as const, grantId: grant.id, at: now, reason}], result: {outcome: 'replayed' as const, reason}})

  if (token.consumedAt !== null) {
    const rotation = token.rotation
    const retry =
      graceMs > 0 &&
      now - token.consumedAt <= graceMs &&
      grant.expiresAt > now &&
      rotation !== null &&
      successor !== undefined &&
      successor.consumedAt === null &&
      successor.revokedAt === null &&
      successor.expiresAt > now &&
      liveInFamily === 1
    if (!retry) {
      const why = now - token.consumedAt > graceMs ? 'after the grace period' : successor?.consumedAt != null ? 'after its successor was used' : 'while the family had branched'
      return revokeFamily(`rotated refresh token presented again ${why}`)
    }
    const again = successorRefreshToken(presented, rotation.salt)
    // Cannot differ for a token whose hash matched, unless the stored rotation was tampered with.
    if (opaqueTokenHash(again) !== rotation.successorHash) return revokeFamily('rotated refresh token does not derive its recorded successor')
    input.check(grant, token)
    return none({outcome: 'rotated', grant, token, refreshToken: again, retried: true})
  }

  if (token.expiresAt <= now || grant.expiresAt <= now) return none({outcome: 'expired'})
  if (liveInFamily > 1) return revokeFamily('the refresh token family had branched')
  input.check(grant, token)
  const salt = input.random(16).toString('base64url')
  const next = successorRefreshToken(presented, salt)
  const nextHash = opaqueTokenHash(next)
  const record: RefreshTokenRecord = {
    hash: nextHash,
    grantId: grant.id,
    clientId,
    scopes: token.scopes,
    createdAt: now,
    expiresAt: Math.min(now + input.refreshTtlMs, grant.expiresAt),
  }
  return {
    writes: [
      {op: 'consume', hash: token.hash, at: now, rotation: {successorHash: nextHash, salt}},
      {op: 'insert', token: record},
    ],
    result: {outcome: 'rotated', grant, token, refreshToken: next, retried: false},
  }
}
