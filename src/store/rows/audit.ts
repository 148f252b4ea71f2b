/**
 * Rows of the audit trail as both backends read them (the same columns on SQLite and
 * PostgreSQL), and their mapping to records: one definition for src/store/sqlite and postgres.
 */
import type {AuditRecord} from '../types.js'

export interface Row {
  id: number
  time: number
  event: string
  client_id: string | null
  subject: string | null
  session_id: string | null
  method: string | null
  name: string | null
  outcome: string
  duration_ms: number | null
  detail: string | null
}

export const fromRow = (r: Row): AuditRecord => ({
  id: r.id,
  time: r.time,
  event: r.event,
  clientId: r.client_id,
  subject: r.subject,
  sessionId: r.session_id,
  method: r.method,
  name: r.name,
  outcome: r.outcome,
  durationMs: r.duration_ms,
  detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
})
