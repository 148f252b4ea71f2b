import type {TokenRepository} from '../types.js'
import type {Sql} from './connect.js'

export function createPostgresTokens(sql: Sql): TokenRepository {
  return {
    async revokeAccessToken({jti, clientId, expiresAt, at}) {
      await sql(
        `INSERT INTO tokens (id, kind, client_id, created_at, expires_at, revoked_at) VALUES ($1, 'revoked_access_token', $2, $3, $4, $3)
         ON CONFLICT (id) DO NOTHING`,
        [jti, clientId, at, expiresAt],
      )
    },
    async revokedAccessTokens(now) {
      return (await sql<{id: string}>(`SELECT id FROM tokens WHERE kind = 'revoked_access_token' AND expires_at > $1`, [now])).map((r) => r.id)
    },
    async useAssertion({clientId, jti, expiresAt}) {
      // RFC 7523 §3: one winner, across every node, decided by the primary key.
      const rows = await sql('INSERT INTO used_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING jti', [clientId, jti, expiresAt])
      return rows.length === 1
    },
    async pruneExpired(now) {
      const a = await sql(`DELETE FROM tokens WHERE kind = 'revoked_access_token' AND expires_at <= $1 RETURNING id`, [now])
      const b = await sql('DELETE FROM used_assertions WHERE expires_at <= $1 RETURNING jti', [now])
      return a.length + b.length
    },
  }
}
