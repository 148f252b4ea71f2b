/**
 * Rows of consents as both backends read them (the same columns on SQLite and
 * PostgreSQL), and their mapping to records: one definition for src/store/sqlite and postgres.
 */
import type {ConsentRecord} from '../types.js'

export interface Row {
  client_id: string
  subject: string
  scope: string
  created_at: number
  revoked_at: number | null
}

export const fromRow = (r: Row): ConsentRecord => ({
  clientId: r.client_id,
  subject: r.subject,
  scopes: r.scope === '' ? [] : r.scope.split(' '),
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
})
