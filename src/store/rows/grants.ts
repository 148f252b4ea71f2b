/**
 * Rows of grants and of the codes and refresh tokens that descend from them, as both backends
 * read them (the same columns on SQLite and PostgreSQL), and their mapping to records: one
 * definition for src/store/sqlite and postgres.
 */
import {fromJson} from '../json.js'
import type {AuthorizationCodeRecord, GrantRecord, RefreshTokenRecord, RefreshTokenState} from '../types.js'

export interface GrantRow {
  id: string
  client_id: string
  subject: string
  scope: string
  resource: string
  created_at: number
  expires_at: number
  revoked_at: number | null
}

export interface TokenRow {
  id: string
  kind: 'authorization_code' | 'refresh_token'
  client_id: string
  family_id: string
  subject: string | null
  scope: string
  resource: string | null
  data: string
  created_at: number
  expires_at: number
  consumed_at: number | null
  revoked_at: number | null
}

export const splitScope = (s: string) => (s === '' ? [] : s.split(' '))

export const grantFromRow = (r: GrantRow): GrantRecord => ({
  id: r.id,
  clientId: r.client_id,
  subject: r.subject,
  scopes: splitScope(r.scope),
  resource: r.resource,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
})

export const codeFromRow = (r: TokenRow): AuthorizationCodeRecord => {
  const data = fromJson<{redirectUri: string; redirectUriGiven: boolean; codeChallenge: string}>(r.data, {redirectUri: '', redirectUriGiven: true, codeChallenge: ''})
  return {
    hash: r.id,
    grantId: r.family_id,
    clientId: r.client_id,
    redirectUri: data.redirectUri,
    redirectUriGiven: data.redirectUriGiven,
    codeChallenge: data.codeChallenge,
    scopes: splitScope(r.scope),
    resource: r.resource ?? '',
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  }
}

export const refreshFromRow = (r: TokenRow): RefreshTokenRecord => ({
  hash: r.id,
  grantId: r.family_id,
  clientId: r.client_id,
  scopes: splitScope(r.scope),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
})

export const refreshStateFromRow = (r: TokenRow): RefreshTokenState => {
  const data = fromJson<{successor?: unknown; salt?: unknown}>(r.data, {})
  return {
    ...refreshFromRow(r),
    consumedAt: r.consumed_at,
    revokedAt: r.revoked_at,
    rotation: typeof data.successor === 'string' && typeof data.salt === 'string' ? {successorHash: data.successor, salt: data.salt} : null,
  }
}
