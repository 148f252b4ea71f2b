import type pg from 'pg'
import type {ConsentRecord, ConsentRepository, GrantRecord, OwnerRepository} from '../types.js'
import {transaction, type Sql} from './connect.js'
import {type Row, fromRow} from '../rows/consents.js'
import {type GrantRow, grantFromRow} from '../rows/grants.js'

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
    async revokeWith(clientId, decide) {
      return transaction(pool, async (tx) => {
        // The client's consents and grants locked: a racing revocation or approval waits.
        const consents = (await tx<Row>('SELECT * FROM consents WHERE client_id = $1 AND revoked_at IS NULL ORDER BY created_at FOR UPDATE', [clientId])).map(fromRow)
        const grants = (await tx<GrantRow>('SELECT * FROM grants WHERE client_id = $1 AND revoked_at IS NULL FOR UPDATE', [clientId])).map(grantFromRow)
        const {writes, result} = decide({consents, grants})
        for (const w of writes) {
          if (w.op === 'revoke_consent') {
            await tx('UPDATE consents SET revoked_at = $1 WHERE client_id = $2 AND subject = $3 AND scope = $4 AND revoked_at IS NULL', [w.at, w.clientId, w.subject, [...w.scopes].sort().join(' ')])
          } else if ((await tx('UPDATE grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL RETURNING id', [w.at, w.reason, w.grantId])).length === 1) {
            await tx('UPDATE tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL', [w.at, w.grantId])
          }
        }
        return result
      })
    },
  }
}
