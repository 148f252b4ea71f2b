import type Database from 'better-sqlite3'
import type {ConsentRecord, ConsentRepository} from '../types.js'

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
export function createSqliteConsents(db: Database.Database): ConsentRepository {
  const insert = db.prepare('INSERT OR IGNORE INTO consents (client_id, subject, scope, created_at) VALUES (?, ?, ?, ?)')
  const active = db.prepare<[string, string], Row>('SELECT * FROM consents WHERE client_id = ? AND subject = ? AND revoked_at IS NULL')
  const listActive = db.prepare<[], Row>('SELECT * FROM consents WHERE revoked_at IS NULL ORDER BY created_at')
  const listAll = db.prepare<[], Row>('SELECT * FROM consents ORDER BY created_at')
  const revokeConsents = db.prepare('UPDATE consents SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL')
  const revokeGrants = db.prepare<[number, string], string>(
    `UPDATE grants SET revoked_at = ?, revoked_reason = 'consent revoked' WHERE client_id = ? AND revoked_at IS NULL RETURNING id`,
  ).pluck()
  const revokeFamily = db.prepare('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL')
  const revokeClient = db.transaction((clientId: string, at: number) => {
    const consents = revokeConsents.run(at, clientId).changes
    const grants = revokeGrants.all(at, clientId)
    for (const id of grants) revokeFamily.run(at, id)
    return {consents, grants: grants.length}
  })
  return {
    async remember({clientId, subject, scopes, at}) {
      insert.run(clientId, subject, [...scopes].sort().join(' '), at)
    },
    async active(clientId, subject) {
      return active.all(clientId, subject).map(fromRow)
    },
    async list({includeRevoked}) {
      return (includeRevoked ? listAll : listActive).all().map(fromRow)
    },
    async revokeClient(clientId, at) {
      return revokeClient.immediate(clientId, at)
    },
  }
}
