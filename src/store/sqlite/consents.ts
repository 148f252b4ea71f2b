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

/** People's approvals, per client and scope set (scopes stored sorted, so a set has one spelling). */
export function createSqliteConsents(db: Database.Database): ConsentRepository {
  const insert = db.prepare('INSERT OR IGNORE INTO consents (client_id, subject, scope, created_at) VALUES (?, ?, ?, ?)')
  const active = db.prepare<[string, string], Row>('SELECT * FROM consents WHERE client_id = ? AND subject = ? AND revoked_at IS NULL')
  const listActive = db.prepare<[], Row>('SELECT * FROM consents WHERE revoked_at IS NULL ORDER BY created_at')
  const listAll = db.prepare<[], Row>('SELECT * FROM consents ORDER BY created_at')
  const listActiveOf = db.prepare<[string], Row>('SELECT * FROM consents WHERE revoked_at IS NULL AND subject = ? ORDER BY created_at')
  const listAllOf = db.prepare<[string], Row>('SELECT * FROM consents WHERE subject = ? ORDER BY created_at')
  const listActiveForClient = db.prepare<[string], Row>('SELECT * FROM consents WHERE revoked_at IS NULL AND client_id = ? ORDER BY created_at')
  const listAllForClient = db.prepare<[string], Row>('SELECT * FROM consents WHERE client_id = ? ORDER BY created_at')
  // A NULL subject matches every subject (the owner revoking a client for everyone).
  const revokeConsents = db.prepare('UPDATE consents SET revoked_at = ? WHERE client_id = ? AND (? IS NULL OR subject = ?) AND revoked_at IS NULL')
  const revokeGrants = db.prepare<[number, string, string | null, string | null], string>(
    `UPDATE grants SET revoked_at = ?, revoked_reason = 'consent revoked' WHERE client_id = ? AND (? IS NULL OR subject = ?) AND revoked_at IS NULL RETURNING id`,
  ).pluck()
  const revokeFamily = db.prepare('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL')
  const revokeClient = db.transaction((clientId: string, at: number, subject: string | null) => {
    const consents = revokeConsents.run(at, clientId, subject, subject).changes
    const grants = revokeGrants.all(at, clientId, subject, subject)
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
    async list({includeRevoked, subject, clientId}) {
      if (clientId !== undefined) {
        const rows = (includeRevoked ? listAllForClient : listActiveForClient).all(clientId).map(fromRow)
        return subject === undefined ? rows : rows.filter((c) => c.subject === subject)
      }
      if (subject !== undefined) return (includeRevoked ? listAllOf : listActiveOf).all(subject).map(fromRow)
      return (includeRevoked ? listAll : listActive).all().map(fromRow)
    },
    async revokeClient(clientId, at, subject) {
      return revokeClient.immediate(clientId, at, subject ?? null)
    },
  }
}
