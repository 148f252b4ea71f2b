import type Database from 'better-sqlite3'
import type {TokenRepository} from '../types.js'

export function createSqliteTokens(db: Database.Database): TokenRepository {
  const revoke = db.prepare(`INSERT OR IGNORE INTO tokens (id, kind, client_id, created_at, expires_at, revoked_at)
    VALUES (?, 'revoked_access_token', ?, ?, ?, ?)`)
  const revoked = db
    .prepare<[number], string>(`SELECT id FROM tokens WHERE kind = 'revoked_access_token' AND expires_at > ?`)
    .pluck()
  const useAssertion = db.prepare('INSERT OR IGNORE INTO used_assertions (client_id, jti, expires_at) VALUES (?, ?, ?)')
  const pruneTokens = db.prepare(`DELETE FROM tokens WHERE kind = 'revoked_access_token' AND expires_at <= ?`)
  const pruneAssertions = db.prepare('DELETE FROM used_assertions WHERE expires_at <= ?')
  const prune = db.transaction((now: number) => pruneTokens.run(now).changes + pruneAssertions.run(now).changes)
  return {
    async revokeAccessToken({jti, clientId, expiresAt, at}) {
      revoke.run(jti, clientId, at, expiresAt, at)
    },
    async revokedAccessTokens(now) {
      return revoked.all(now)
    },
    async useAssertion({clientId, jti, expiresAt}) {
      return useAssertion.run(clientId, jti, expiresAt).changes === 1
    },
    async pruneExpired(now) {
      return prune.immediate(now)
    },
  }
}
