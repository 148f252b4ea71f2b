import type pg from 'pg'
import type {ConsentRecord, ConsentRepository} from '../types.js'
import {transaction, type Sql} from './connect.js'

interface Row {
  client_id: string
  subject: string
  scope: string
  created_at: number
  revoked_at: number | null
}

const fromRow = (r: Row): ConsentRecord => ({
  clientId: r.client_id,
  subject: r.subject,
  scopes: r.scope === '' ? [] : r.scope.split(' '),
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
})

/** The owner's approvals, per client and scope set (scopes stored sorted, so a set has one spelling). */
export function createPostgresConsents(sql: Sql, pool: pg.Pool): ConsentRepository {
  return {
    async remember({clientId, subject, scopes, at}) {
      await sql('INSERT INTO consents (client_id, subject, scope, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [clientId, subject, [...scopes].sort().join(' '), at])
    },
    async active(clientId, subject) {
      return (await sql<Row>('SELECT * FROM consents WHERE client_id = $1 AND subject = $2 AND revoked_at IS NULL', [clientId, subject])).map(fromRow)
    },
    async list({includeRevoked, subject, clientId}) {
      const where: string[] = includeRevoked ? [] : ['revoked_at IS NULL']
      const args: string[] = []
      if (subject !== undefined) (args.push(subject), where.push(`subject = $${args.length}`))
      if (clientId !== undefined) (args.push(clientId), where.push(`client_id = $${args.length}`))
      return (await sql<Row>(`SELECT * FROM consents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at`, args)).map(fromRow)
    },
    async revokeClient(clientId, at, subject) {
      // A NULL subject matches every subject (the owner revoking a client for everyone).
      return transaction(pool, async (tx) => {
        const consents = await tx('UPDATE consents SET revoked_at = $1 WHERE client_id = $2 AND ($3::text IS NULL OR subject = $3) AND revoked_at IS NULL RETURNING client_id', [at, clientId, subject ?? null])
        const grants = await tx<{id: string}>(`UPDATE grants SET revoked_at = $1, revoked_reason = 'consent revoked' WHERE client_id = $2 AND ($3::text IS NULL OR subject = $3) AND revoked_at IS NULL RETURNING id`, [at, clientId, subject ?? null])
        if (grants.length > 0) await tx('UPDATE tokens SET revoked_at = $1 WHERE family_id = ANY($2::text[]) AND revoked_at IS NULL', [at, grants.map((g) => g.id)])
        return {consents: consents.length, grants: grants.length}
      })
    },
  }
}
