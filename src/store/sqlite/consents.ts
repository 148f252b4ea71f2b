import type Database from 'better-sqlite3'
import type {ConsentRecord, ConsentRepository, ConsentWrite, GrantRecord} from '../types.js'
import {type Row, fromRow} from '../rows/consents.js'
import {type GrantRow, grantFromRow} from '../rows/grants.js'

/** People's approvals, per client and scope set (scopes stored sorted, so a set has one spelling). */
export function createSqliteConsents(db: Database.Database): ConsentRepository {
  const insert = db.prepare('INSERT OR IGNORE INTO consents (client_id, subject, scope, created_at) VALUES (?, ?, ?, ?)')
  const active = db.prepare<[string, string], Row>('SELECT * FROM consents WHERE client_id = ? AND subject = ? AND revoked_at IS NULL')
  const activeOfClient = db.prepare<[string], Row>('SELECT * FROM consents WHERE client_id = ? AND revoked_at IS NULL ORDER BY created_at')
  const listActive = db.prepare<[], Row>('SELECT * FROM consents WHERE revoked_at IS NULL ORDER BY created_at')
  const listAll = db.prepare<[], Row>('SELECT * FROM consents ORDER BY created_at')
  const revokeConsent = db.prepare('UPDATE consents SET revoked_at = ? WHERE client_id = ? AND subject = ? AND scope = ? AND revoked_at IS NULL')
  const liveGrants = db.prepare<[string], GrantRow>('SELECT * FROM grants WHERE client_id = ? AND revoked_at IS NULL')
  const revokeGrant = db.prepare('UPDATE grants SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL')
  const revokeFamily = db.prepare('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL')
  const apply = (w: ConsentWrite) => {
    if (w.op === 'revoke_consent') revokeConsent.run(w.at, w.clientId, w.subject, [...w.scopes].sort().join(' '))
    else if (revokeGrant.run(w.at, w.reason, w.grantId).changes === 1) revokeFamily.run(w.at, w.grantId)
  }
  const listActiveOf = db.prepare<[string], Row>('SELECT * FROM consents WHERE revoked_at IS NULL AND subject = ? ORDER BY created_at')
  const listAllOf = db.prepare<[string], Row>('SELECT * FROM consents WHERE subject = ? ORDER BY created_at')
  const listActiveForClient = db.prepare<[string], Row>('SELECT * FROM consents WHERE revoked_at IS NULL AND client_id = ? ORDER BY created_at')
  const listAllForClient = db.prepare<[string], Row>('SELECT * FROM consents WHERE client_id = ? ORDER BY created_at')
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
    async revokeWith(clientId, decide) {
      return db
        .transaction(() => {
          const {writes, result} = decide({consents: activeOfClient.all(clientId).map(fromRow), grants: liveGrants.all(clientId).map(grantFromRow)})
          for (const w of writes) apply(w)
          return result
        })
        .immediate()
    },
  }
}
