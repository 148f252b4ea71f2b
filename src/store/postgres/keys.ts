import type {SecretRepository, SigningKeyRecord, SigningKeyRepository} from '../types.js'
import {transaction, type Sql} from './connect.js'
import type pg from 'pg'
import {type Row, fromRow} from '../rows/signing-keys.js'

export function createPostgresSigningKeys(sql: Sql, pool: pg.Pool): SigningKeyRepository {
  return {
    async list() {
      return (await sql<Row>('SELECT * FROM signing_keys ORDER BY created_at DESC, seq DESC')).map(fromRow)
    },
    async rotate(key, {at, verifyUntil}) {
      await transaction(pool, async (tx) => {
        await tx('UPDATE signing_keys SET retired_at = $1, verify_until = $2 WHERE retired_at IS NULL', [at, verifyUntil])
        await tx('INSERT INTO signing_keys (kid, alg, public_jwk, private_key_store, created_at) VALUES ($1, $2, $3, $4, $5)', [
          key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateKeyStore, key.createdAt,
        ])
      })
    },
    async prune(now) {
      return (await sql<Row>('DELETE FROM signing_keys WHERE verify_until IS NOT NULL AND verify_until < $1 RETURNING *', [now])).map(fromRow)
    },
  }
}

export function createPostgresSecrets(sql: Sql): SecretRepository {
  return {
    async get(account) {
      const [row] = await sql<{sealed: string}>('SELECT sealed FROM secrets WHERE account = $1', [account])
      return row?.sealed
    },
    async set(account, sealed) {
      await sql('INSERT INTO secrets (account, sealed) VALUES ($1, $2) ON CONFLICT (account) DO UPDATE SET sealed = excluded.sealed', [account, sealed])
    },
    async delete(account) {
      await sql('DELETE FROM secrets WHERE account = $1', [account])
    },
  }
}
