/**
 * Rows of browser sessions and parked authorizations as both backends read them (the same columns on SQLite and
 * PostgreSQL), and their mapping to records: one definition for src/store/sqlite and postgres.
 */
import type {BrowserSessionRecord, PendingAuthorizationRecord} from '../types.js'

export interface SessionRow {
  id: string
  csrf: string
  owner_at: number | null
  user_id: string | null
  address: string
  expires_at: number
  used_at: number
}

export interface PendingRow {
  id: string
  session_id: string
  request: string
  created_at: number
  expires_at: number
}

export const session = (r: SessionRow): BrowserSessionRecord => ({id: r.id, csrf: r.csrf, ownerAt: r.owner_at, userId: r.user_id ?? null, address: r.address, expiresAt: r.expires_at, usedAt: r.used_at})

export const pending = (r: PendingRow): PendingAuthorizationRecord => ({id: r.id, sessionId: r.session_id, request: r.request, createdAt: r.created_at, expiresAt: r.expires_at})
