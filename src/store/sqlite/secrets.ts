import type Database from 'better-sqlite3'
import type {SecretRepository} from '../types.js'

/** Sealed secrets by account name (the store never sees them in clear). */
export function createSqliteSecrets(db: Database.Database): SecretRepository {
  const get = db.prepare<[string], string>('SELECT sealed FROM secrets WHERE account = ?').pluck()
  const set = db.prepare('INSERT INTO secrets (account, sealed) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET sealed = excluded.sealed')
  const remove = db.prepare('DELETE FROM secrets WHERE account = ?')
  return {
    async get(account) {
      return get.get(account) ?? undefined
    },
    async set(account, sealed) {
      set.run(account, sealed)
    },
    async delete(account) {
      remove.run(account)
    },
  }
}
