import {createPrivateKey, type KeyObject} from 'node:crypto'
import {importJWK, type CryptoKey, type JWK} from 'jose'
import type {Clock} from '../../clock.js'
import {GatehouseError} from '../../errors.js'
import type {SecretVault} from '../../secrets/vault.js'
import {watchTopics} from '../../store/changes.js'
import type {SigningKeyRecord, Store} from '../../store/types.js'
import {ACCESS_TOKEN_TYP, SIGNING_ALG, vaultAccount} from './generate.js'

export interface Keyring {
  /** The key that signs now, with its JWS protected header already encoded (src/oauth/jws.ts). */
  signer(): Signer
  /** A public key that may verify tokens, by kid; undefined for unknown or expired keys. */
  verifier(kid: string): CryptoKey | undefined
  /** The JWKS document (the `jwks_uri`): every key that still verifies. */
  jwks(): {keys: JWK[]}
  /** Reloads when the keys changed (`gatehouse keys rotate` here, in the CLI, on another node). */
  refresh(): Promise<void>
}

export interface Signer {
  kid: string
  key: KeyObject
  /** base64url of {"alg":"ES256","kid":...,"typ":"at+jwt"} */
  encodedHeader: string
}

type Vaults = Partial<Record<SigningKeyRecord['privateKeyStore'], SecretVault>>

/**
 * The daemon's view of the signing keys, held in memory (no I/O per token). It follows the
 * store: a rotation by the CLI is picked up on the next request, without a restart.
 */
export async function loadKeyring({store, vaults, clock}: {store: Store; vaults: Vaults; clock: Clock}): Promise<Keyring> {
  let active: Signer
  let published: Map<string, {record: SigningKeyRecord; key: CryptoKey}> = new Map()
  let jwks: {keys: JWK[]} = {keys: []}
  const watch = watchTopics(store.changes, ['signingKeys', 'secrets'])
  const privateCache = new Map<string, KeyObject>()

  async function load() {
    watch.loading()
    const records = await store.signingKeys.list()
    const now = clock.now()
    const live = records.filter((r) => r.verifyUntil === null || r.verifyUntil > now)
    const current = live.find((r) => r.retiredAt === null)
    if (!current) throw new GatehouseError('CONFIG', 'no active signing key; run `gatehouse keys rotate`')
    let key = privateCache.get(current.kid)
    if (!key) {
      const vault = vaults[current.privateKeyStore]
      const pem = vault ? await vault.get(vaultAccount(current.kid)) : null
      if (!pem) {
        throw new GatehouseError(
          'KEYCHAIN',
          `the private part of signing key ${current.kid} is not in ${current.privateKeyStore === 'keychain' ? 'an OS keychain this process can reach' : current.privateKeyStore === 'database' ? 'the database' : 'the secrets file'}; run \`gatehouse keys rotate\` where the daemon runs`,
        )
      }
      key = createPrivateKey(pem)
      privateCache.set(current.kid, key)
    }
    const next = new Map<string, {record: SigningKeyRecord; key: CryptoKey}>()
    for (const r of live) {
      const existing = published.get(r.kid)
      next.set(r.kid, {record: r, key: existing?.key ?? ((await importJWK(r.publicJwk as JWK, r.alg)) as CryptoKey)})
    }
    const header = {alg: SIGNING_ALG, kid: current.kid, typ: ACCESS_TOKEN_TYP}
    active = {kid: current.kid, key, encodedHeader: Buffer.from(JSON.stringify(header)).toString('base64url')}
    published = next
    jwks = {keys: live.map((r) => r.publicJwk as JWK)}
  }

  await load()
  let reloading: Promise<void> | undefined
  return {
    signer: () => active,
    verifier(kid) {
      const entry = published.get(kid)
      if (!entry) return undefined
      const until = entry.record.verifyUntil
      return until === null || until > clock.now() ? entry.key : undefined
    },
    jwks: () => jwks,
    async refresh() {
      if (!watch.stale()) return
      reloading ??= load()
        .catch((error: unknown) => {
          watch.invalidate()
          throw error
        })
        .finally(() => (reloading = undefined))
      await reloading
    },
  }
}
