import {StoreConflictError} from '../errors.js'
import {fromJson, toJson} from '../json.js'
import type {ClientRecord, ClientRepository, NewClient, RegisteredClientRepository} from '../types.js'
import type {Sql} from './connect.js'
import {type Row, fromRow} from '../rows/clients.js'

const iso = (col: string) => `CASE WHEN ${col} IS NULL THEN NULL ELSE to_char(to_timestamp(${col} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END`

export function createPostgresClients(sql: Sql): ClientRepository {
  const jsonList = (where: string) => `SELECT coalesce(json_agg(json_build_object(
      'client_id', id, 'name', name, 'description', description,
      'scopes', scopes::json, 'grant_types', grant_types::json,
      'created_at', ${iso('created_at')}, 'last_used_at', ${iso('last_used_at')}, 'revoked_at', ${iso('revoked_at')},
      'status', CASE WHEN revoked_at IS NULL THEN 'active' ELSE 'revoked' END,
      'registration', registration, 'token_endpoint_auth_method', auth_method,
      'redirect_uris', redirect_uris::json, 'access_token_lifetime', access_token_ttl) ORDER BY created_at, id)::text, '[]') AS json
    FROM clients ${where}`
  return {
    async insert(c: NewClient) {
      await sql(
        `INSERT INTO clients (id, name, description, secret_hash, auth_method, jwks, scopes, grant_types, redirect_uris,
           access_token_ttl, token_rate_limit, mcp_rate_limit, max_sessions, registration, metadata, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [c.id, c.name, c.description, c.secretHash, c.authMethod, c.jwks ? toJson(c.jwks) : null, toJson(c.scopes), toJson(c.grantTypes), toJson(c.redirectUris),
          c.accessTokenTtl, c.tokenRateLimit, c.mcpRateLimit, c.maxSessions ?? null, c.registration, toJson(c.metadata), c.createdAt],
      )
    },
    async findById(id) {
      const [row] = await sql<Row>('SELECT * FROM clients WHERE id = $1', [id])
      return row && fromRow(row)
    },
    async findActiveByName(name) {
      return (await sql<Row>('SELECT * FROM clients WHERE name = $1 AND revoked_at IS NULL', [name])).map(fromRow)
    },
    async list({includeRevoked}) {
      return (await sql<Row>(`SELECT * FROM clients ${includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`)).map(fromRow)
    },
    async listJson({includeRevoked}) {
      const [row] = await sql<{json: string}>(jsonList(includeRevoked ? '' : 'WHERE revoked_at IS NULL'))
      return row!.json
    },
    async revoke(id, {at, by, reason}) {
      const rows = await sql('UPDATE clients SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 WHERE id = $4 AND revoked_at IS NULL RETURNING id', [at, by, reason, id])
      return rows.length === 1
    },
    async touch(entries) {
      if (entries.size === 0) return
      await sql(
        `UPDATE clients c SET last_used_at = greatest(coalesce(c.last_used_at, 0), t.at)
         FROM unnest($1::text[], $2::bigint[]) AS t(id, at) WHERE c.id = t.id`,
        [[...entries.keys()], [...entries.values()]],
      )
    },
  }
}

export function createPostgresRegisteredClients(sql: Sql, clients: ClientRepository): RegisteredClientRepository {
  return {
    async upsertMetadataDocumentClient(c) {
      try {
        await clients.insert(c)
      } catch (error) {
        // It exists (or another node inserted it first): refresh it below.
        if (!(error instanceof StoreConflictError)) throw error
      }
      await sql(
        `UPDATE clients SET name = $2, description = $3, scopes = $4, grant_types = $5, redirect_uris = $6, metadata = $7
         WHERE id = $1 AND revoked_at IS NULL AND registration = 'metadata_document'
           AND (name, description, scopes, grant_types, redirect_uris, metadata) IS DISTINCT FROM ($2, $3, $4, $5, $6, $7)`,
        [c.id, c.name, c.description, toJson(c.scopes), toJson(c.grantTypes), toJson(c.redirectUris), toJson(c.metadata)],
      )
      return (await clients.findById(c.id))!
    },
    async countActive() {
      const [row] = await sql<{n: number}>(`SELECT count(*) AS n FROM clients WHERE registration = 'dynamic' AND revoked_at IS NULL`)
      return row?.n ?? 0
    },
    async expireUnused({neverUsedBefore, idleBefore, at}) {
      const rows = await sql<{id: string}>(
        `UPDATE clients SET revoked_at = $1, revoked_by = 'expiry', revoked_reason = 'registered client unused'
         WHERE registration = 'dynamic' AND revoked_at IS NULL
           AND ((last_used_at IS NULL AND created_at < $2) OR last_used_at < $3) RETURNING id`,
        [at, neverUsedBefore, idleBefore],
      )
      return rows.map((r) => r.id)
    },
  }
}
