/**
 * Rows of signing keys as both backends read them (the same columns on SQLite and PostgreSQL),
 * and their mapping to records: one definition for src/store/sqlite and postgres.
 */
import type {SigningKeyRecord} from '../types.js'

export interface Row {
  kid: string
  alg: string
  public_jwk: string
  private_key_store: SigningKeyRecord['privateKeyStore']
  created_at: number
  retired_at: number | null
  verify_until: number | null
}

export const fromRow = (r: Row): SigningKeyRecord => ({
  kid: r.kid,
  alg: r.alg,
  publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
  privateKeyStore: r.private_key_store,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
  verifyUntil: r.verify_until,
})
