/**
 * Rows of users and their upstream identities as both backends read them (the same columns on SQLite and
 * PostgreSQL), and their mapping to records: one definition for src/store/sqlite and postgres.
 */
import type {UserIdentityRecord, UserRecord} from '../types.js'

export interface Row {
  id: string
  name: string
  role: 'owner' | 'member'
  password_hash: string | null
  created_at: number
  disabled_at: number | null
}

export interface IdentityRow {
  issuer: string
  subject: string
  user_id: string
  email: string | null
  created_at: number
  last_login_at: number
}

export const fromRow = (r: Row): UserRecord => ({id: r.id, name: r.name, role: r.role, passwordHash: r.password_hash, createdAt: r.created_at, disabledAt: r.disabled_at})

export const identityFromRow = (r: IdentityRow): UserIdentityRecord => ({issuer: r.issuer, subject: r.subject, userId: r.user_id, email: r.email, createdAt: r.created_at, lastLoginAt: r.last_login_at})
