import type pg from 'pg'
import type {BrowserSessionRecord, BrowserSessionRepository, PendingAuthorizationRecord} from '../types.js'
import {transaction, type Sql} from './connect.js'
import {type SessionRow, type PendingRow, session, pending} from '../rows/browser-sessions.js'

/** Session bounds are counted under one advisory lock, so racing nodes cannot both pass a full bound. */
const SESSION_LOCK = 0x6761_7466

/** Consent-page sessions and parked requests, shared by every node. */
export function createPostgresBrowserSessions(sql: Sql, pool: pg.Pool): BrowserSessionRepository {
  const insert = (tx: Sql, s: BrowserSessionRecord) =>
    tx('INSERT INTO browser_sessions (id, csrf, owner_at, user_id, address, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [s.id, s.csrf, s.ownerAt, s.userId, s.address, s.expiresAt, s.usedAt])
  const count = async (tx: Sql, where: string, values: unknown[] = []) => Number((await tx<{n: number}>(`SELECT count(*)::int AS n FROM browser_sessions WHERE ${where}`, values))[0]!.n)
  return {
    async createAnonymous(s, bounds) {
      await transaction(pool, async (tx) => {
        await tx('SELECT pg_advisory_xact_lock($1)', [SESSION_LOCK])
        const ofAddress = await count(tx, 'owner_at IS NULL AND address = $1', [s.address])
        if (ofAddress >= bounds.maxPerAddress) {
          await tx('DELETE FROM browser_sessions WHERE id IN (SELECT id FROM browser_sessions WHERE owner_at IS NULL AND address = $1 ORDER BY used_at LIMIT $2)', [s.address, ofAddress - bounds.maxPerAddress + 1])
        }
        const all = await count(tx, 'owner_at IS NULL')
        if (all >= bounds.maxAnonymous) {
          await tx('DELETE FROM browser_sessions WHERE id IN (SELECT id FROM browser_sessions WHERE owner_at IS NULL ORDER BY used_at LIMIT $1)', [all - bounds.maxAnonymous + 1])
        }
        await insert(tx, s)
      })
    },
    async use(id, now) {
      const [r] = await sql<SessionRow>('UPDATE browser_sessions SET used_at = $1 WHERE id = $2 AND expires_at > $1 RETURNING *', [now, id])
      return r ? session(r) : undefined
    },
    async login(oldId, s, maxOwner) {
      return transaction(pool, async (tx) => {
        await tx('SELECT pg_advisory_xact_lock($1)', [SESSION_LOCK])
        if ((await tx('SELECT 1 FROM browser_sessions WHERE id = $1 FOR UPDATE', [oldId])).length === 0) return false
        const owners = await count(tx, 'owner_at IS NOT NULL')
        if (owners >= maxOwner) {
          await tx('DELETE FROM browser_sessions WHERE id IN (SELECT id FROM browser_sessions WHERE owner_at IS NOT NULL ORDER BY used_at LIMIT $1)', [owners - maxOwner + 1])
        }
        await insert(tx, s)
        await tx('UPDATE pending_authorizations SET session_id = $1 WHERE session_id = $2', [s.id, oldId])
        await tx('DELETE FROM browser_sessions WHERE id = $1', [oldId])
        return true
      })
    },
    async park(p, maxPerSession) {
      return transaction(pool, async (tx) => {
        // The session row locked: two parks in one session count one after the other.
        if ((await tx('SELECT 1 FROM browser_sessions WHERE id = $1 FOR UPDATE', [p.sessionId])).length === 0) return false
        const [{n}] = (await tx<{n: number}>('SELECT count(*)::int AS n FROM pending_authorizations WHERE session_id = $1', [p.sessionId])) as [{n: number}]
        if (n >= maxPerSession) {
          await tx('DELETE FROM pending_authorizations WHERE id IN (SELECT id FROM pending_authorizations WHERE session_id = $1 ORDER BY created_at LIMIT $2)', [p.sessionId, n - maxPerSession + 1])
        }
        await tx('INSERT INTO pending_authorizations (id, session_id, request, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [p.id, p.sessionId, p.request, p.createdAt, p.expiresAt])
        return true
      })
    },
    async pending(id, sessionId, now) {
      const [r] = await sql<PendingRow>('SELECT * FROM pending_authorizations WHERE id = $1 AND session_id = $2 AND expires_at > $3', [id, sessionId, now])
      return r ? pending(r) : undefined
    },
    async end(id) {
      await sql('DELETE FROM pending_authorizations WHERE session_id = $1', [id])
      await sql('DELETE FROM browser_sessions WHERE id = $1', [id])
    },
    async settle(id, sessionId) {
      return (await sql('DELETE FROM pending_authorizations WHERE id = $1 AND session_id = $2 RETURNING id', [id, sessionId])).length === 1
    },
    async count(now) {
      const [r] = await sql<{anonymous: number; owner: number}>(
        'SELECT count(*) FILTER (WHERE owner_at IS NULL)::int AS anonymous, count(*) FILTER (WHERE owner_at IS NOT NULL)::int AS owner FROM browser_sessions WHERE expires_at > $1',
        [now],
      )
      return r!
    },
    async prune(now) {
      const a = await sql('DELETE FROM pending_authorizations WHERE expires_at <= $1 RETURNING id', [now])
      const b = await sql('DELETE FROM browser_sessions WHERE expires_at <= $1 RETURNING id', [now])
      return a.length + b.length
    },
  }
}
