import type Database from 'better-sqlite3'
import type {OwnerRepository} from '../types.js'

/** The owner's password hash (one row). */
export function createSqliteOwner(db: Database.Database): OwnerRepository {
  const get = db.prepare<[], string>('SELECT password_hash FROM owner WHERE id = 1').pluck()
  const set = db.prepare(`INSERT INTO owner (id, password_hash, updated_at) VALUES (1, ?, ?)
    ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at`)
  return {
    async passwordHash() {
      return get.get() ?? undefined
    },
    async setPasswordHash(hash, at) {
      set.run(hash, at)
    },
  }
}
