/**
 * Rows of node heartbeats as both backends read them (the same columns on SQLite and
 * PostgreSQL), and their mapping to records: one definition for src/store/sqlite and postgres.
 */

export interface Row {
  id: string
  url: string
  host: string
  pid: number
  version: string
  started_at: number
  seen_at: number
}
