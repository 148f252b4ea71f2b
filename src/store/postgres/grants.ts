import type pg from 'pg'
import {fromJson, toJson} from '../json.js'
import type {AuthorizationCodeRecord, GrantRecord, GrantRepository, RefreshFamilyView, RefreshTokenRecord, RefreshTokenState, RefreshWrite} from '../types.js'
import {transaction, type Sql} from './connect.js'
import {type GrantRow, type TokenRow, splitScope, grantFromRow, codeFromRow, refreshFromRow, refreshStateFromRow} from '../rows/grants.js'

const INSERT_TOKEN = `INSERT INTO tokens (id, kind, client_id, family_id, subject, scope, resource, data, created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

/**
 * Grants and their codes and refresh tokens on PostgreSQL, with the same behaviour as the SQLite
 * repository (src/store/sqlite/grants.ts; the contract suite in test/store/ holds both to it).
 * Redemption locks the code's row and a refresh exchange its family's grant row (`SELECT ... FOR
 * UPDATE`) inside one transaction: racing requests, on one node or two, are serialised by the row
 * lock, and the second sees the first one's commit (READ COMMITTED re-reads a row it waited for).
 * The rotation rule itself is not here: src/oauth/grants/refresh-rotation.ts decides.
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
  const apply = async (q: Sql, w: RefreshWrite): Promise<void> => {
    switch (w.op) {
      case 'consume':
        await q('UPDATE tokens SET consumed_at = $1, data = $2 WHERE id = $3', [w.at, toJson({successor: w.rotation.successorHash, salt: w.rotation.salt}), w.hash])
        return
      case 'insert': {
        const grant = await grantById(q, w.token.grantId)
        if (!grant) throw new Error(`no grant ${w.token.grantId} for a refresh token`)
        await storeRefresh(q, w.token, grant.subject, grant.resource)
        return
      }
      case 'revoke_grant':
        await revokeGrant(q, w.grantId, w.at, w.reason)
        return
    }
  }

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
    async exchangeRefreshToken(hash, now, decide) {
      return transaction(pool, async (tx) => {
        // Lock the family (its grant row) before reading any of its tokens: two exchanges of
        // different tokens of one family (RT0 and RT1 at once, on one node or two) are then
        // serialised as SQLite's immediate transaction serialises them, and each sees the
        // other's commit (READ COMMITTED re-reads after the wait).
        const [family] = await tx<{family_id: string}>(`SELECT family_id FROM tokens WHERE id = $1 AND kind = 'refresh_token'`, [hash])
        let view: RefreshFamilyView | undefined
        if (family) {
          const [grantRow] = await tx<GrantRow>('SELECT * FROM grants WHERE id = $1 FOR UPDATE', [family.family_id])
          const row = await lockToken(tx, hash, 'refresh_token')
          if (row) {
            const token = refreshStateFromRow(row)
            const successorRow = token.rotation ? (await tx<TokenRow>(`SELECT * FROM tokens WHERE id = $1 AND kind = 'refresh_token'`, [token.rotation.successorHash]))[0] : undefined
            const [count] = await tx<{n: string}>(
              `SELECT count(*) AS n FROM tokens WHERE family_id = $1 AND kind = 'refresh_token' AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > $2`,
              [row.family_id, now],
            )
            view = {token, grant: grantRow && grantFromRow(grantRow), successor: successorRow && refreshStateFromRow(successorRow), liveInFamily: Number(count?.n ?? 0)}
          }
        }
        const {writes, result} = decide(view)
        for (const w of writes) await apply(tx, w)
        return result
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
