import {calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair} from 'jose'
import type {Clock} from '../../clock.js'
import type {SecretVault} from '../../secrets/vault.js'
import type {SigningKeyRecord, Store} from '../../store/types.js'

/** Access tokens are signed with ES256 (RFC 9068 §2.1 requires an asymmetric algorithm). */
export const SIGNING_ALG = 'ES256'

/** RFC 9068 §2.1: the media type of a JWT access token, in its `typ` header. */
export const ACCESS_TOKEN_TYP = 'at+jwt'

export const vaultAccount = (kid: string) => `signing-key:${kid}`

/** The default access token lifetime, seconds, for clients that set none. */
export const DEFAULT_ACCESS_TOKEN_TTL = 3600

/**
 * Makes a new signing key, keeps its private part in the vault and its public part in the store,
 * and retires the keys that signed until now: they keep verifying until the longest-lived token
 * they could have signed has expired.
 */
export async function rotateSigningKey({store, vault, clock}: {store: Store; vault: SecretVault; clock: Clock}): Promise<SigningKeyRecord> {
  const {privateKey, publicKey} = await generateKeyPair(SIGNING_ALG, {extractable: true})
  const publicJwk = {...(await exportJWK(publicKey)), alg: SIGNING_ALG, use: 'sig'}
  const kid = await calculateJwkThumbprint(publicJwk)
  const record: SigningKeyRecord = {
    kid,
    alg: SIGNING_ALG,
    publicJwk: {...publicJwk, kid},
    privateKeyStore: vault.kind,
    createdAt: clock.now(),
    retiredAt: null,
    verifyUntil: null,
  }
  // Private part first: a key row without its private key would stop the daemon signing.
  await vault.set(vaultAccount(kid), await exportPKCS8(privateKey))
  const now = clock.now()
  const clients = await store.clients.list({includeRevoked: false})
  const longest = Math.max(DEFAULT_ACCESS_TOKEN_TTL, ...clients.map((c) => c.accessTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL))
  await store.signingKeys.rotate(record, {at: now, verifyUntil: now + longest * 1000})
  return record
}

/** Drops keys that verify nothing any more, from the store and from wherever their private part is. */
export async function pruneSigningKeys({store, vaults, clock}: {store: Store; vaults: Partial<Record<SigningKeyRecord['privateKeyStore'], SecretVault>>; clock: Clock}) {
  const gone = await store.signingKeys.prune(clock.now())
  for (const key of gone) await vaults[key.privateKeyStore]?.delete(vaultAccount(key.kid))
  return gone
}
