import type pg from 'pg'
import type {OwnerRepository, UserIdentityRecord, UserRecord, UserRepository} from '../types.js'
import {transaction, type Sql} from './connect.js'
import {type Row, type IdentityRow, fromRow, identityFromRow} from '../rows/users.js'

const PRIMARY = `SELECT * FROM users WHERE role = 'owner' AND disabled_at IS NULL ORDER BY created_at, id LIMIT 1`
const INSERT = 'INSERT INTO users (id, name, role, password_hash, created_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6)'
const LINK = 'INSERT INTO user_identities (issuer, subject, user_id, email, created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6)'

/** Revokes a user's consents and grants (with their codes and refresh tokens) inside `tx`. */
async function revokeAll(tx: Sql, id: string, at: number) {
  const consents = await tx('UPDATE consents SET revoked_at = $1 WHERE subject = $2 AND revoked_at IS NULL RETURNING client_id', [at, id])
  const grants = await tx<{id: string}>(`UPDATE grants SET revoked_at = $1, revoked_reason = 'user disabled' WHERE subject = $2 AND revoked_at IS NULL RETURNING id`, [at, id])
  if (grants.length > 0) await tx('UPDATE tokens SET revoked_at = $1 WHERE family_id = ANY($2::text[]) AND revoked_at IS NULL', [at, grants.map((g) => g.id)])
  return {consents: consents.length, grants: grants.length}
}

/** People (src/store/types.ts UserRepository) on PostgreSQL; the same behaviour as src/store/sqlite/users.ts. */
export function createPostgresUsers(sql: Sql, pool: pg.Pool): UserRepository {
  const user = (u: UserRecord) => [u.id, u.name, u.role, u.passwordHash, u.createdAt, u.disabledAt]
  const identity = (i: UserIdentityRecord) => [i.issuer, i.subject, i.userId, i.email, i.createdAt, i.lastLoginAt]
  return {
    async insert(u) {
      await sql(INSERT, user(u))
    },
    async findById(id) {
      const [r] = await sql<Row>('SELECT * FROM users WHERE id = $1', [id])
      return r && fromRow(r)
    },
    async findByName(name) {
      const [r] = await sql<Row>('SELECT * FROM users WHERE name = $1', [name])
      return r && fromRow(r)
    },
    async list() {
      return (await sql<Row>('SELECT * FROM users ORDER BY created_at, id')).map(fromRow)
    },
    async primaryOwner() {
      const [r] = await sql<Row>(PRIMARY)
      return r && fromRow(r)
    },
    async setPasswordHash(id, hash) {
      return (await sql('UPDATE users SET password_hash = $1 WHERE id = $2 RETURNING id', [hash, id])).length === 1
    },
    async disable(id, at) {
      return transaction(pool, async (tx) => {
        const done = await tx('UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL RETURNING id', [at, id])
        if (done.length === 0) return null
        return revokeAll(tx, id, at)
      })
    },
    async enable(id) {
      return (await sql('UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL RETURNING id', [id])).length === 1
    },
    async identityCounts() {
      const rows = await sql<{user_id: string; n: string | number}>('SELECT user_id, COUNT(*) AS n FROM user_identities GROUP BY user_id', [])
      return new Map(rows.map((r) => [r.user_id, Number(r.n)]))
    },
    async remove(id, at) {
      return transaction(pool, async (tx) => {
        const [row] = await tx('SELECT id FROM users WHERE id = $1 FOR UPDATE', [id])
        if (!row) return null
        const done = await revokeAll(tx, id, at)
        await tx('DELETE FROM user_identities WHERE user_id = $1', [id])
        await tx('DELETE FROM users WHERE id = $1', [id])
        return done
      })
    },
    async findIdentity(issuer, subject) {
      const [r] = await sql<IdentityRow>('SELECT * FROM user_identities WHERE issuer = $1 AND subject = $2', [issuer, subject])
      return r && identityFromRow(r)
    },
    async linkIdentity(i) {
      await sql(LINK, identity(i))
    },
    async touchIdentity(issuer, subject, email, at) {
      await sql('UPDATE user_identities SET email = $1, last_login_at = $2 WHERE issuer = $3 AND subject = $4', [email, at, issuer, subject])
    },
    async insertWithIdentity(u, i) {
      await transaction(pool, async (tx) => {
        await tx(INSERT, user(u))
        await tx(LINK, identity(i))
      })
    },
  }
}

/** The owner's password over the users table (see src/store/sqlite/users.ts createSqliteOwner). */
export function createPostgresOwner(sql: Sql, pool: pg.Pool, newUserId: () => string): OwnerRepository {
  return {
    async passwordHash() {
      const [r] = await sql<Row>(PRIMARY)
      return r?.password_hash ?? undefined
    },
    async setPasswordHash(hash, at) {
      await transaction(pool, async (tx) => {
        // Serialises two first set-passwords: one creates the owner, the other updates it.
        await tx('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE')
        const [owner] = await tx<Row>(PRIMARY)
        if (owner) await tx('UPDATE users SET password_hash = $1 WHERE id = $2', [hash, owner.id])
        else await tx(`INSERT INTO users (id, name, role, password_hash, created_at) VALUES ($1, 'owner', 'owner', $2, $3)`, [newUserId(), hash, at])
      })
    },
  }
}
