import type Database from 'better-sqlite3'
import {StoreConflictError} from '../errors.js'
import type {OwnerRepository, UserIdentityRecord, UserRecord, UserRepository} from '../types.js'
import {type Row, type IdentityRow, fromRow, identityFromRow} from '../rows/users.js'

const conflict = (what: string, error: unknown): unknown => {
  const code = (error as {code?: string}).code
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ? new StoreConflictError(what, {cause: error}) : error
}

/** People (src/store/types.ts UserRepository) on SQLite. */
export function createSqliteUsers(db: Database.Database): UserRepository {
  const insert = db.prepare('INSERT INTO users (id, name, role, password_hash, created_at, disabled_at) VALUES (?, ?, ?, ?, ?, ?)')
  const byId = db.prepare<[string], Row>('SELECT * FROM users WHERE id = ?')
  const byName = db.prepare<[string], Row>('SELECT * FROM users WHERE name = ?')
  const all = db.prepare<[], Row>('SELECT * FROM users ORDER BY created_at, id')
  const primary = db.prepare<[], Row>(`SELECT * FROM users WHERE role = 'owner' AND disabled_at IS NULL ORDER BY created_at, id LIMIT 1`)
  const setHash = db.prepare('UPDATE users SET password_hash = ? WHERE id = ?')
  const markDisabled = db.prepare('UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL')
  const revokeConsents = db.prepare('UPDATE consents SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL')
  const revokeGrants = db.prepare<[number, string], string>(`UPDATE grants SET revoked_at = ?, revoked_reason = 'user disabled' WHERE subject = ? AND revoked_at IS NULL RETURNING id`).pluck()
  const revokeFamily = db.prepare('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL')
  const markEnabled = db.prepare('UPDATE users SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL')
  const identityCounts = db.prepare<[], {user_id: string; n: number}>('SELECT user_id, COUNT(*) AS n FROM user_identities GROUP BY user_id')
  const deleteUser = db.prepare('DELETE FROM users WHERE id = ?')
  const deleteIdentities = db.prepare('DELETE FROM user_identities WHERE user_id = ?')
  const identity = db.prepare<[string, string], IdentityRow>('SELECT * FROM user_identities WHERE issuer = ? AND subject = ?')
  const link = db.prepare('INSERT INTO user_identities (issuer, subject, user_id, email, created_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?)')
  const touch = db.prepare('UPDATE user_identities SET email = ?, last_login_at = ? WHERE issuer = ? AND subject = ?')

  const revokeAll = (id: string, at: number) => {
    const consents = revokeConsents.run(at, id).changes
    const grants = revokeGrants.all(at, id)
    for (const g of grants) revokeFamily.run(at, g)
    return {consents, grants: grants.length}
  }
  const disable = db.transaction((id: string, at: number) => {
    if (markDisabled.run(at, id).changes === 0) return null
    return revokeAll(id, at)
  })
  const remove = db.transaction((id: string, at: number) => {
    if (!byId.get(id)) return null
    const done = revokeAll(id, at)
    deleteIdentities.run(id)
    deleteUser.run(id)
    return done
  })
  const insertUser = (u: UserRecord) => {
    try {
      insert.run(u.id, u.name, u.role, u.passwordHash, u.createdAt, u.disabledAt)
    } catch (error) {
      throw conflict('user', error)
    }
  }
  const linkIdentity = (i: UserIdentityRecord) => {
    try {
      link.run(i.issuer, i.subject, i.userId, i.email, i.createdAt, i.lastLoginAt)
    } catch (error) {
      throw conflict('user identity', error)
    }
  }
  const insertWithIdentity = db.transaction((u: UserRecord, i: UserIdentityRecord) => {
    insertUser(u)
    linkIdentity(i)
  })
  return {
    async insert(u) {
      insertUser(u)
    },
    async findById(id) {
      const r = byId.get(id)
      return r && fromRow(r)
    },
    async findByName(name) {
      const r = byName.get(name)
      return r && fromRow(r)
    },
    async list() {
      return all.all().map(fromRow)
    },
    async primaryOwner() {
      const r = primary.get()
      return r && fromRow(r)
    },
    async setPasswordHash(id, hash) {
      return setHash.run(hash, id).changes === 1
    },
    async disable(id, at) {
      return disable.immediate(id, at)
    },
    async enable(id) {
      return markEnabled.run(id).changes === 1
    },
    async identityCounts() {
      return new Map(identityCounts.all().map((r) => [r.user_id, r.n]))
    },
    async remove(id, at) {
      return remove.immediate(id, at)
    },
    async findIdentity(issuer, subject) {
      const r = identity.get(issuer, subject)
      return r && identityFromRow(r)
    },
    async linkIdentity(i) {
      linkIdentity(i)
    },
    async touchIdentity(issuer, subject, email, at) {
      touch.run(email, at, issuer, subject)
    },
    async insertWithIdentity(u, i) {
      insertWithIdentity.immediate(u, i)
    },
  }
}

/**
 * The owner's password over the users table: the primary owner's. Setting it with no owner user
 * creates one named `owner` (the first user: `gatehouse owner set-password` on a fresh data dir).
 */
export function createSqliteOwner(db: Database.Database, newUserId: () => string): OwnerRepository {
  const primary = db.prepare<[], {id: string; password_hash: string | null}>(`SELECT id, password_hash FROM users WHERE role = 'owner' AND disabled_at IS NULL ORDER BY created_at, id LIMIT 1`)
  const setHash = db.prepare('UPDATE users SET password_hash = ? WHERE id = ?')
  const insert = db.prepare(`INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, 'owner', 'owner', ?, ?)`)
  const set = db.transaction((hash: string, at: number) => {
    const owner = primary.get()
    if (owner) setHash.run(hash, owner.id)
    else {
      try {
        insert.run(newUserId(), hash, at)
      } catch (error) {
        throw conflict('user', error)
      }
    }
  })
  return {
    async passwordHash() {
      return primary.get()?.password_hash ?? undefined
    },
    async setPasswordHash(hash, at) {
      set.immediate(hash, at)
    },
  }
}
