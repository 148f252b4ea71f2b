import type Database from 'better-sqlite3'
import type {AuthorizationCodeRecord, CodeRedemption, GrantRecord, GrantRepository, RefreshFamilyView, RefreshTokenRecord, RefreshTokenState, RefreshWrite} from '../types.js'
import {fromJson, toJson} from './json.js'
import {type GrantRow, type TokenRow, splitScope, grantFromRow, codeFromRow, refreshFromRow, refreshStateFromRow} from '../rows/grants.js'

/**
 * Grants and the tokens that descend from them (authorization codes and refresh tokens in the
 * `tokens` table, family_id = grant id). Redemption and rotation are read-then-write, so each
 * runs in a BEGIN IMMEDIATE transaction: two racing requests (in this process or another) are
 * serialised by SQLite's write lock, and only one can see the token unused.
 */
export function createSqliteGrants(db: Database.Database): GrantRepository {
  const insertGrant = db.prepare(`INSERT INTO grants (id, client_id, subject, scope, resource, created_at, expires_at)
    VALUES (@id, @clientId, @subject, @scope, @resource, @createdAt, @expiresAt)`)
  const grantById = db.prepare<[string], GrantRow>('SELECT * FROM grants WHERE id = ?')
  const insertToken = db.prepare(`INSERT INTO tokens (id, kind, client_id, family_id, subject, scope, resource, data, created_at, expires_at)
    VALUES (@id, @kind, @clientId, @familyId, @subject, @scope, @resource, @data, @createdAt, @expiresAt)`)
  const tokenByHash = db.prepare<[string, string], TokenRow>('SELECT * FROM tokens WHERE id = ? AND kind = ?')
  const consume = db.prepare('UPDATE tokens SET consumed_at = ?, data = ? WHERE id = ?')
  const revokeGrantRow = db.prepare('UPDATE grants SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL')
  const revokeFamily = db.prepare('UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL')
  const grantsOfClient = db.prepare<[string, string], string>('SELECT id FROM grants WHERE client_id = ? AND subject = ? AND revoked_at IS NULL').pluck()
  const revokedSince = db.prepare<[number], string>('SELECT id FROM grants WHERE revoked_at >= ?').pluck()
  const liveInFamily = db
    .prepare<[string, number], number>(
      `SELECT count(*) FROM tokens WHERE family_id = ? AND kind = 'refresh_token' AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
    )
    .pluck()
  const pruneTokens = db.prepare(`DELETE FROM tokens WHERE kind IN ('authorization_code','refresh_token') AND expires_at <= ?`)
  const pruneGrants = db.prepare('DELETE FROM grants WHERE expires_at <= ? AND (revoked_at IS NULL OR revoked_at <= ?)')

  const storeRefresh = (t: RefreshTokenRecord, subject: string, resource: string) =>
    insertToken.run({
      id: t.hash,
      kind: 'refresh_token',
      clientId: t.clientId,
      familyId: t.grantId,
      subject,
      scope: t.scopes.join(' '),
      resource,
      data: '{}',
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
    })

  const storeCode = (c: AuthorizationCodeRecord) =>
    insertToken.run({
      id: c.hash,
      kind: 'authorization_code',
      clientId: c.clientId,
      familyId: c.grantId,
      subject: null,
      scope: c.scopes.join(' '),
      resource: c.resource,
      data: toJson({redirectUri: c.redirectUri, redirectUriGiven: c.redirectUriGiven, codeChallenge: c.codeChallenge}),
      createdAt: c.createdAt,
      expiresAt: c.expiresAt,
    })

  const createWithCode = db.transaction((g: GrantRecord, c: AuthorizationCodeRecord) => {
    insertGrant.run({...g, scope: g.scopes.join(' ')})
    storeCode(c)
  })

  const revokeGrant = (id: string, at: number, reason: string): boolean => {
    const done = revokeGrantRow.run(at, reason, id).changes === 1
    revokeFamily.run(at, id)
    return done
  }

  const redeem = db.transaction(
    (hash: string, {clientId, now, check, refresh}: {clientId: string; now: number; check(c: AuthorizationCodeRecord): void; refresh?: {hash: string; createdAt: number; expiresAt: number} | undefined}): CodeRedemption => {
      const row = tokenByHash.get(hash, 'authorization_code')
      if (!row) return {outcome: 'unknown'}
      if (row.client_id !== clientId) return {outcome: 'wrong_client'}
      if (row.consumed_at !== null) {
        // OAuth 2.1 §4.1.3 / RFC 9700 §4.5: a code used twice revokes what it produced.
        revokeGrant(row.family_id, now, 'authorization code replayed')
        return {outcome: 'replayed'}
      }
      if (row.expires_at <= now) return {outcome: 'expired'}
      const grant = grantById.get(row.family_id)
      if (!grant || grant.revoked_at !== null || row.revoked_at !== null) return {outcome: 'grant_revoked'}
      const code = codeFromRow(row)
      check(code)
      consume.run(now, row.data, hash)
      if (refresh) {
        storeRefresh({...refresh, grantId: grant.id, clientId, scopes: code.scopes, expiresAt: Math.min(refresh.expiresAt, grant.expires_at)}, grant.subject, grant.resource)
      }
      return {outcome: 'redeemed', code, grant: grantFromRow(grant)}
    },
  )

  const apply = (w: RefreshWrite) => {
    switch (w.op) {
      case 'consume':
        consume.run(w.at, toJson({successor: w.rotation.successorHash, salt: w.rotation.salt}), w.hash)
        return
      case 'insert': {
        const grant = grantById.get(w.token.grantId)
        if (!grant) throw new Error(`no grant ${w.token.grantId} for a refresh token`)
        storeRefresh(w.token, grant.subject, grant.resource)
        return
      }
      case 'revoke_grant':
        revokeGrant(w.grantId, w.at, w.reason)
        return
    }
  }

  // The read, the caller's decision and the writes in one transaction (run with .immediate):
  // the write lock is taken before the read, so no other exchange can see the same state.
  const exchange = db.transaction(<T>(hash: string, now: number, decide: (view: RefreshFamilyView | undefined) => {writes: RefreshWrite[]; result: T}): T => {
    const row = tokenByHash.get(hash, 'refresh_token')
    let view: RefreshFamilyView | undefined
    if (row) {
      const token = refreshStateFromRow(row)
      const grantRow = grantById.get(row.family_id)
      const successorRow = token.rotation ? tokenByHash.get(token.rotation.successorHash, 'refresh_token') : undefined
      view = {
        token,
        grant: grantRow && grantFromRow(grantRow),
        successor: successorRow && refreshStateFromRow(successorRow),
        liveInFamily: liveInFamily.get(row.family_id, now) ?? 0,
      }
    }
    const {writes, result} = decide(view)
    for (const w of writes) apply(w)
    return result
  })

  const revokeForClient = db.transaction((clientId: string, subject: string, at: number, reason: string) => {
    let n = 0
    for (const id of grantsOfClient.all(clientId, subject)) if (revokeGrant(id, at, reason)) n++
    return n
  })
  const revokeOne = db.transaction(revokeGrant)
  const prune = db.transaction((now: number) => {
    const week = 7 * 86_400_000
    return pruneTokens.run(now).changes + pruneGrants.run(now - week, now - week).changes
  })

  return {
    async create(g) {
      insertGrant.run({...g, scope: g.scopes.join(' ')})
    },
    async find(id) {
      const row = grantById.get(id)
      return row && grantFromRow(row)
    },
    async insertCode(c) {
      storeCode(c)
    },
    async createWithCode(g, c) {
      createWithCode.immediate(g, c)
    },
    async redeemCode(hash, options) {
      return redeem.immediate(hash, options)
    },
    async exchangeRefreshToken(hash, now, decide) {
      return exchange.immediate(hash, now, decide) as ReturnType<typeof decide>['result']
    },
    async revoke(id, at, reason) {
      return revokeOne.immediate(id, at, reason)
    },
    async revokeForClient(clientId, subject, at, reason) {
      return revokeForClient.immediate(clientId, subject, at, reason)
    },
    async findRefreshToken(hash) {
      const row = tokenByHash.get(hash, 'refresh_token')
      return row && refreshFromRow(row)
    },
    async revokedSince(since) {
      return revokedSince.all(since)
    },
    async prune(now) {
      return prune.immediate(now)
    },
  }
}
