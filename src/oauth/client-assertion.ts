import {createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JSONWebKeySet} from 'jose'
import type {Clock} from '../clock.js'
import {ASSERTION_ALGS} from '../clients/public-key.js'
import type {ClientRecord, Store} from '../store/types.js'
import {InvalidClient} from './errors.js'

/** RFC 7523 §2.2 */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Assertions must be short-lived: a longer one is refused (RFC 7523 §3 lets the server set this). */
export const MAX_ASSERTION_LIFETIME_S = 600

/** The client an assertion claims to come from (its `iss`, which must equal `sub`), unverified. */
export function assertionClientId(assertion: string): string {
  try {
    const claims = decodeJwt(assertion)
    if (typeof claims.iss !== 'string' || claims.iss !== claims.sub) throw new Error('iss and sub differ')
    return claims.iss
  } catch {
    throw new InvalidClient('the client assertion is malformed')
  }
}

/**
 * Verifies a private_key_jwt client assertion (RFC 7523 §3, RFC 7521 §5.2): signature with one
 * of the client's registered keys, iss = sub = client_id, aud = this server's token endpoint or
 * issuer, exp within MAX_ASSERTION_LIFETIME_S, and a jti never seen before (replay refused).
 */
export async function verifyClientAssertion(
  assertion: string,
  client: ClientRecord,
  {audiences, store, clock}: {audiences: string[]; store: Store; clock: Clock},
): Promise<void> {
  if (client.authMethod !== 'private_key_jwt' || !client.jwks) throw new InvalidClient()
  let payload
  try {
    ;({payload} = await jwtVerify(assertion, createLocalJWKSet(client.jwks as unknown as JSONWebKeySet), {
      issuer: client.id,
      subject: client.id,
      audience: audiences,
      algorithms: [...ASSERTION_ALGS],
      currentDate: new Date(clock.now()),
      requiredClaims: ['exp', 'jti'],
      maxTokenAge: MAX_ASSERTION_LIFETIME_S,
      clockTolerance: 5,
    }))
  } catch (error) {
    const why = error instanceof joseErrors.JWTExpired ? 'expired' : 'not valid'
    throw new InvalidClient(`the client assertion is ${why}`)
  }
  const now = Math.floor(clock.now() / 1000)
  if (payload.exp! - now > MAX_ASSERTION_LIFETIME_S) throw new InvalidClient('the client assertion lives too long')
  const fresh = await store.tokens.useAssertion({clientId: client.id, jti: String(payload.jti), expiresAt: payload.exp! * 1000})
  if (!fresh) throw new InvalidClient('the client assertion was already used')
}
