import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'

/**
 * Client ids and secrets. Both carry a prefix so a leaked one is recognisable (secret scanners,
 * logs, a paste in a chat): `gtc_` for client ids, `gts_` for secrets. A secret is 256 random
 * bits (base64url, 43 characters). It is stored as its SHA-256 only: at this entropy a slow
 * hash adds no protection (NIST SP 800-63B treats such look-up secrets this way) and would cost
 * every token request.
 */
export const CLIENT_ID_PREFIX = 'gtc_'
export const CLIENT_SECRET_PREFIX = 'gts_'

export type RandomBytes = (size: number) => Buffer

export function newClientId(random: RandomBytes = randomBytes): string {
  return CLIENT_ID_PREFIX + random(16).toString('base64url')
}

export function newClientSecret(random: RandomBytes = randomBytes): string {
  return CLIENT_SECRET_PREFIX + random(32).toString('base64url')
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Compares a presented secret with a stored hash in time independent of where they differ. */
export function secretMatches(presented: string, storedHash: string | null): boolean {
  // Hash even when there is nothing to compare to, so a missing client costs the same time.
  const a = createHash('sha256').update(presented, 'utf8').digest()
  const b = storedHash && storedHash.length === 64 ? Buffer.from(storedHash, 'hex') : Buffer.alloc(32)
  return timingSafeEqual(a, b) && storedHash !== null
}
