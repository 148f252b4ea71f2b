import type pg from 'pg'
import {fromJson, toJson} from '../json.js'
import type {AuthorizationCodeRecord, GrantRecord, GrantRepository, RefreshTokenRecord} from '../types.js'
import {transaction, type Sql} from './connect.js'

interface GrantRow {
  id: string
  client_id: string
  subject: string
  scope: string
  resource: string
  created_at: number
  expires_at: number
  revoked_at: number | null
}

interface TokenRow {
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

const splitScope = (s: string) => (s === '' ? [] : s.split(' '))

const grantFromRow = (r: GrantRow): GrantRecord => ({
  id: r.id,
  clientId: r.client_id,
  subject: r.subject,
  scopes: splitScope(r.scope),
  resource: r.resource,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
})

const codeFromRow = (r: TokenRow): AuthorizationCodeRecord => {
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

const refreshFromRow = (r: TokenRow): RefreshTokenRecord => ({
  hash: r.id,
  grantId: r.family_id,
  clientId: r.client_id,
  scopes: splitScope(r.scope),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
})

const INSERT_TOKEN = `INSERT INTO tokens (id, kind, client_id, family_id, subject, scope, resource, data, created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

/**
 * Grants and their codes and refresh tokens on PostgreSQL, with the same behaviour as the SQLite
 * repository (src/store/sqlite/grants.ts; the contract suite in test/store/ holds both to it).
 * Redemption and rotation lock the token row (`SELECT ... FOR UPDATE`) inside one transaction:
 * two racing requests, on one node or two, are serialised by the row lock, and the second sees
 * the first one's commit (READ COMMITTED re-reads a row it waited for).
 */
export function createPostgresGrants(sql: Sql, pool: pg.Pool): GrantRepository {
  const storeRefresh = (q: Sql, t: RefreshTokenRecord, subject: string, resource: string) =>
    q(INSERT_TOKEN, [t.hash, 'refresh_token', t.clientId, t.grantId, subject, t.scopes.join(' '), resource, '{}', t.createdAt, t.expiresAt])
  const storeCode = (q: Sql, c: AuthorizationCodeRecord) =>
    q(INSERT_TOKEN, [
      c.hash, 'authorization_code', c.clientId, c.grantId, null, c.scopes.join(' '), c.resource,
      toJson({redirectUri: c.redirectUri, redirectUriGiven: c.redirectUriGiven, codeChallenge: c.codeChallenge}), c.createdAt, c.expiresAt,
    ])
  const insertGrant = (q: Sql, g: GrantRecord) =>
    q('INSERT INTO grants (id, client_id, subject, scope, resource, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      g.id, g.clientId, g.subject, g.scopes.join(' '), g.resource, g.createdAt, g.expiresAt,
    ])
  const revokeGrant = async (q: Sql, id: string, at: number, reason: string): Promise<boolean> => {
    const done = (await q('UPDATE grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL RETURNING id', [at, reason, id])).length === 1
    await q('UPDATE tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL', [at, id])
    return done
  }
  const lockToken = async (q: Sql, hash: string, kind: TokenRow['kind']) => (await q<TokenRow>('SELECT * FROM tokens WHERE id = $1 AND kind = $2 FOR UPDATE', [hash, kind]))[0]
  const grantById = async (q: Sql, id: string) => (await q<GrantRow>('SELECT * FROM grants WHERE id = $1', [id]))[0]

  return {
    async create(g) {
      await insertGrant(sql, g)
    },
    async find(id) {
      const row = await grantById(sql, id)
      return row && grantFromRow(row)
    },
    async insertCode(c) {
      await storeCode(sql, c)
    },
    async createWithCode(g, c) {
      await transaction(pool, async (tx) => {
        await insertGrant(tx, g)
        await storeCode(tx, c)
      })
    },
    async redeemCode(hash, {clientId, now, check, refresh}) {
      return transaction(pool, async (tx) => {
        const row = await lockToken(tx, hash, 'authorization_code')
        if (!row) return {outcome: 'unknown'} as const
        if (row.client_id !== clientId) return {outcome: 'wrong_client'} as const
        if (row.consumed_at !== null) {
          // OAuth 2.1 §4.1.3 / RFC 9700 §4.5: a code used twice revokes what it produced.
          await revokeGrant(tx, row.family_id, now, 'authorization code replayed')
          return {outcome: 'replayed'} as const
        }
        if (row.expires_at <= now) return {outcome: 'expired'} as const
        const grant = await grantById(tx, row.family_id)
        if (!grant || grant.revoked_at !== null || row.revoked_at !== null) return {outcome: 'grant_revoked'} as const
        const code = codeFromRow(row)
        check(code)
        await tx('UPDATE tokens SET consumed_at = $1 WHERE id = $2', [now, hash])
        if (refresh) {
          await storeRefresh(tx, {...refresh, grantId: grant.id, clientId, scopes: code.scopes, expiresAt: Math.min(refresh.expiresAt, grant.expires_at)}, grant.subject, grant.resource)
        }
        return {outcome: 'redeemed', code, grant: grantFromRow(grant)} as const
      })
    },
    async rotateRefreshToken(hash, {clientId, now, graceMs, next, check}) {
      return transaction(pool, async (tx) => {
        const row = await lockToken(tx, hash, 'refresh_token')
        if (!row) return {outcome: 'unknown'} as const
        if (row.client_id !== clientId) return {outcome: 'wrong_client'} as const
        const grantRow = await grantById(tx, row.family_id)
        if (!grantRow || grantRow.revoked_at !== null || row.revoked_at !== null) return {outcome: 'grant_revoked'} as const
        const grant = grantFromRow(grantRow)
        const token = refreshFromRow(row)
        const data = fromJson<{successor?: string}>(row.data, {})
        const successor: RefreshTokenRecord = {
          hash: next.hash,
          grantId: grant.id,
          clientId,
          scopes: token.scopes,
          createdAt: next.createdAt,
          expiresAt: Math.min(next.expiresAt, grant.expiresAt),
        }
        if (row.consumed_at !== null) {
          const previous = data.successor ? await lockToken(tx, data.successor, 'refresh_token') : undefined
          const retry = now - row.consumed_at <= graceMs && previous !== undefined && previous.consumed_at === null && previous.revoked_at === null
          if (!retry) {
            // OAuth 2.1 §4.3.1, RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the family.
            await revokeGrant(tx, grant.id, now, 'refresh token replayed')
            return {outcome: 'replayed'} as const
          }
          // The grace period: the client lost the response that carried `previous`; it is replaced.
          check(grant, token)
          await tx('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, previous.id])
          await storeRefresh(tx, successor, grant.subject, grant.resource)
          await tx('UPDATE tokens SET data = $1 WHERE id = $2', [toJson({...data, successor: successor.hash}), hash])
          return {outcome: 'rotated', grant, previous: token, retried: true} as const
        }
        if (row.expires_at <= now || grant.expiresAt <= now) return {outcome: 'expired'} as const
        check(grant, token)
        await tx('UPDATE tokens SET consumed_at = $1, data = $2 WHERE id = $3', [now, toJson({...data, successor: successor.hash}), hash])
        await storeRefresh(tx, successor, grant.subject, grant.resource)
        return {outcome: 'rotated', grant, previous: token, retried: false} as const
      })
    },
    async revoke(id, at, reason) {
      return transaction(pool, (tx) => revokeGrant(tx, id, at, reason))
    },
    async revokeForClient(clientId, subject, at, reason) {
      return transaction(pool, async (tx) => {
        let n = 0
        const ids = await tx<{id: string}>('SELECT id FROM grants WHERE client_id = $1 AND subject = $2 AND revoked_at IS NULL FOR UPDATE', [clientId, subject])
        for (const {id} of ids) if (await revokeGrant(tx, id, at, reason)) n++
        return n
      })
    },
    async findRefreshToken(hash) {
      const [row] = await sql<TokenRow>(`SELECT * FROM tokens WHERE id = $1 AND kind = 'refresh_token'`, [hash])
      return row && refreshFromRow(row)
    },
    async revokedSince(since) {
      return (await sql<{id: string}>('SELECT id FROM grants WHERE revoked_at >= $1', [since])).map((r) => r.id)
    },
    async prune(now) {
      const week = 7 * 86_400_000
      return transaction(pool, async (tx) => {
        const a = await tx(`DELETE FROM tokens WHERE kind IN ('authorization_code','refresh_token') AND expires_at <= $1 RETURNING id`, [now])
        const b = await tx('DELETE FROM grants WHERE expires_at <= $1 AND (revoked_at IS NULL OR revoked_at <= $1) RETURNING id', [now - week])
        return a.length + b.length
      })
    },
  }
}
