/**
 * Rows of clients as both backends read them (the same columns on SQLite and
 * PostgreSQL), and their mapping to records: one definition for src/store/sqlite and postgres.
 */
import type {ClientRecord} from '../types.js'
import {fromJson} from '../json.js'

export interface Row {
  id: string
  name: string
  description: string
  secret_hash: string | null
  auth_method: ClientRecord['authMethod']
  jwks: string | null
  scopes: string
  grant_types: string
  redirect_uris: string
  access_token_ttl: number | null
  token_rate_limit: number | null
  mcp_rate_limit: number | null
  max_sessions: number | null
  registration: ClientRecord['registration']
  metadata: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
  revoked_by: string | null
  revoked_reason: string | null
}

export const fromRow = (r: Row): ClientRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  secretHash: r.secret_hash,
  authMethod: r.auth_method,
  jwks: fromJson(r.jwks, null),
  scopes: fromJson(r.scopes, []),
  grantTypes: fromJson(r.grant_types, []),
  redirectUris: fromJson(r.redirect_uris, []),
  accessTokenTtl: r.access_token_ttl,
  tokenRateLimit: r.token_rate_limit,
  mcpRateLimit: r.mcp_rate_limit,
  maxSessions: r.max_sessions,
  registration: r.registration,
  metadata: fromJson(r.metadata, {}),
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
  revokedReason: r.revoked_reason,
})
