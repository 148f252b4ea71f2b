import {randomUUID} from 'node:crypto'
import {errors as joseErrors, jwtVerify, type JWTPayload} from 'jose'
import type {Clock} from '../clock.js'
import {InvalidTokenError, type Principal} from '../principal/principal.js'
import type {Keyring} from './keys/keyring.js'
import {ACCESS_TOKEN_TYP, SIGNING_ALG} from './keys/generate.js'
import {signJws} from './jws.js'


export interface AccessTokenClaims {
  clientId: string
  subject: string
  audience: string
  scopes: readonly string[]
  ttlSeconds: number
  /** Ties the token to a refresh-token family, where there is one. */
  grantId?: string
}

export interface IssuedAccessToken {
  token: string
  jti: string
  expiresAt: number
  expiresIn: number
}

/** Signs an RFC 9068 access token: typ at+jwt; iss, sub, aud, client_id, scope, iat, exp, jti. */
export async function signAccessToken(
  claims: AccessTokenClaims,
  {issuer, keyring, clock}: {issuer: string; keyring: Keyring; clock: Clock},
): Promise<IssuedAccessToken> {
  await keyring.refresh()
  const signer = keyring.signer()
  const iat = Math.floor(clock.now() / 1000)
  const exp = iat + claims.ttlSeconds
  // randomUUID draws from a pre-filled entropy cache: cheaper per token than randomBytes(16).
  const jti = randomUUID()
  const payload: JWTPayload = {
    iss: issuer,
    sub: claims.subject,
    aud: claims.audience,
    client_id: claims.clientId,
    scope: claims.scopes.join(' '),
    iat,
    exp,
    jti,
  }
  if (claims.grantId) payload.gid = claims.grantId
  const token = signJws(signer, payload)
  return {token, jti, expiresAt: exp * 1000, expiresIn: claims.ttlSeconds}
}

export interface VerifiedAccessToken {
  /** The signing key's id: a cached verification holds only while that key still verifies. */
  kid: string
  clientId: string
  subject: string
  audience: string
  scopes: string[]
  jti: string
  issuedAt: number
  expiresAt: number
  grantId: string | undefined
}

/** How far in the future a token's `iat` may be (clocks of processes sharing the keys). */
export const MAX_ISSUED_AT_SKEW_MS = 60_000

/**
 * Checks signature (only our ES256 keys, by kid; `alg: none` and foreign keys fail), `typ`,
 * issuer, audience, expiry, and that it was not issued in the future (RFC 7519 §4.1.6; jose
 * checks `iat` only against a maximum age). Revocation is checked by the caller (src/oauth/token-verifier.ts).
 */
export async function verifyAccessTokenJwt(
  token: string,
  {issuer, audiences, keyring, clock}: {issuer: string; audiences: readonly string[]; keyring: Keyring; clock: Clock},
): Promise<VerifiedAccessToken> {
  let payload: JWTPayload
  let kid: string
  try {
    let protectedHeader
    ;({payload, protectedHeader} = await jwtVerify(
      token,
      (header) => {
        const key = header.kid === undefined ? undefined : keyring.verifier(header.kid)
        if (!key) throw new InvalidTokenError('unknown signing key')
        return key
      },
      {
        issuer,
        audience: audiences as string[],
        typ: ACCESS_TOKEN_TYP,
        algorithms: [SIGNING_ALG],
        currentDate: new Date(clock.now()),
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
      },
    ))
    kid = protectedHeader.kid!
  } catch (error) {
    if (error instanceof InvalidTokenError) throw error
    if (error instanceof joseErrors.JWTExpired) throw new InvalidTokenError('the access token expired')
    if (error instanceof joseErrors.JWTClaimValidationFailed) throw new InvalidTokenError(`the access token's ${error.claim} claim is not valid here`)
    throw new InvalidTokenError('the access token is not valid')
  }
  if (payload.iat! * 1000 > clock.now() + MAX_ISSUED_AT_SKEW_MS) throw new InvalidTokenError('the access token was issued in the future')
  const aud = Array.isArray(payload.aud) ? payload.aud[0]! : payload.aud!
  return {
    kid,
    clientId: String(payload.client_id),
    subject: payload.sub!,
    audience: aud,
    scopes: typeof payload.scope === 'string' && payload.scope ? payload.scope.split(' ') : [],
    jti: payload.jti!,
    issuedAt: payload.iat! * 1000,
    expiresAt: payload.exp! * 1000,
    grantId: typeof payload.gid === 'string' ? payload.gid : undefined,
  }
}

export type {Principal}
