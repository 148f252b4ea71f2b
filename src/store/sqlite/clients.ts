import type Database from 'better-sqlite3'
import type {ClientRecord, ClientRepository, NewClient} from '../types.js'
import {fromJson, toJson} from './json.js'

interface Row {
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
  registration: ClientRecord['registration']
  metadata: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
  revoked_by: string | null
  revoked_reason: string | null
}

const fromRow = (r: Row): ClientRecord => ({
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
  registration: r.registration,
  metadata: fromJson(r.metadata, {}),
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
  revokedReason: r.revoked_reason,
})

export function createSqliteClients(db: Database.Database): ClientRepository {
  const insert = db.prepare(`INSERT INTO clients
    (id, name, description, secret_hash, auth_method, jwks, scopes, grant_types, redirect_uris,
     access_token_ttl, token_rate_limit, mcp_rate_limit, registration, metadata, created_at)
    VALUES (@id, @name, @description, @secretHash, @authMethod, @jwks, @scopes, @grantTypes,
     @redirectUris, @accessTokenTtl, @tokenRateLimit, @mcpRateLimit, @registration, @metadata, @createdAt)`)
  const byId = db.prepare<[string], Row>('SELECT * FROM clients WHERE id = ?')
  const byName = db.prepare<[string], Row>('SELECT * FROM clients WHERE name = ? AND revoked_at IS NULL')
  const active = db.prepare<[], Row>('SELECT * FROM clients WHERE revoked_at IS NULL ORDER BY created_at, id')
  const all = db.prepare<[], Row>('SELECT * FROM clients ORDER BY created_at, id')
  const revoke = db.prepare(
    'UPDATE clients SET revoked_at = ?, revoked_by = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL',
  )
  const touch = db.prepare(
    'UPDATE clients SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?',
  )
  const touchAll = db.transaction((entries: ReadonlyMap<string, number>) => {
    for (const [id, at] of entries) touch.run(at, id)
  })

  return {
    async insert(c: NewClient) {
      insert.run({
        ...c,
        jwks: c.jwks ? toJson(c.jwks) : null,
        scopes: toJson(c.scopes),
        grantTypes: toJson(c.grantTypes),
        redirectUris: toJson(c.redirectUris),
        metadata: toJson(c.metadata),
      })
    },
    async findById(id) {
      const row = byId.get(id)
      return row && fromRow(row)
    },
    async findActiveByName(name) {
      return byName.all(name).map(fromRow)
    },
    async list({includeRevoked}) {
      return (includeRevoked ? all : active).all().map(fromRow)
    },
    async revoke(id, {at, by, reason}) {
      return revoke.run(at, by, reason, id).changes === 1
    },
    async touch(entries) {
      if (entries.size > 0) touchAll.immediate(entries)
    },
  }
}
