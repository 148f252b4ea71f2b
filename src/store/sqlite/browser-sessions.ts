import type Database from 'better-sqlite3'
import type {BrowserSessionRecord, BrowserSessionRepository, PendingAuthorizationRecord} from '../types.js'
import {type SessionRow, type PendingRow, session, pending} from '../rows/browser-sessions.js'

/** Consent-page sessions and parked requests on SQLite (the contract's twin of the PostgreSQL ones). */
export function createSqliteBrowserSessions(db: Database.Database): BrowserSessionRepository {
  const insert = db.prepare('INSERT INTO browser_sessions (id, csrf, owner_at, user_id, address, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const countAddress = db.prepare<[string], number>('SELECT count(*) FROM browser_sessions WHERE owner_at IS NULL AND address = ?').pluck()
  const countAnonymous = db.prepare<[], number>('SELECT count(*) FROM browser_sessions WHERE owner_at IS NULL').pluck()
  const countOwner = db.prepare<[], number>('SELECT count(*) FROM browser_sessions WHERE owner_at IS NOT NULL').pluck()
  const dropOldestOfAddress = db.prepare(`DELETE FROM browser_sessions WHERE id IN
    (SELECT id FROM browser_sessions WHERE owner_at IS NULL AND address = ? ORDER BY used_at LIMIT ?)`)
  const dropOldestAnonymous = db.prepare(`DELETE FROM browser_sessions WHERE id IN
    (SELECT id FROM browser_sessions WHERE owner_at IS NULL ORDER BY used_at LIMIT ?)`)
  const dropOldestOwner = db.prepare(`DELETE FROM browser_sessions WHERE id IN
    (SELECT id FROM browser_sessions WHERE owner_at IS NOT NULL ORDER BY used_at LIMIT ?)`)
  const use = db.prepare<[number, string, number], SessionRow>('UPDATE browser_sessions SET used_at = ? WHERE id = ? AND expires_at > ? RETURNING *')
  const exists = db.prepare<[string], number>('SELECT 1 FROM browser_sessions WHERE id = ?').pluck()
  const move = db.prepare('UPDATE pending_authorizations SET session_id = ? WHERE session_id = ?')
  const drop = db.prepare('DELETE FROM browser_sessions WHERE id = ?')
  const insertPending = db.prepare('INSERT INTO pending_authorizations (id, session_id, request, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
  const countPending = db.prepare<[string], number>('SELECT count(*) FROM pending_authorizations WHERE session_id = ?').pluck()
  const dropOldestPending = db.prepare(`DELETE FROM pending_authorizations WHERE id IN
    (SELECT id FROM pending_authorizations WHERE session_id = ? ORDER BY created_at LIMIT ?)`)
  const findPending = db.prepare<[string, string, number], PendingRow>('SELECT * FROM pending_authorizations WHERE id = ? AND session_id = ? AND expires_at > ?')
  const settle = db.prepare('DELETE FROM pending_authorizations WHERE id = ? AND session_id = ?')
  const dropPendingOf = db.prepare('DELETE FROM pending_authorizations WHERE session_id = ?')
  const endSession = db.transaction((id: string) => {
    dropPendingOf.run(id)
    drop.run(id)
  })
  const liveCount = db.prepare<[number], {anonymous: number; owner: number}>(
    'SELECT coalesce(sum(owner_at IS NULL), 0) AS anonymous, coalesce(sum(owner_at IS NOT NULL), 0) AS owner FROM browser_sessions WHERE expires_at > ?',
  )
  const pruneSessions = db.prepare('DELETE FROM browser_sessions WHERE expires_at <= ?')
  const prunePending = db.prepare('DELETE FROM pending_authorizations WHERE expires_at <= ?')

  const createAnonymous = db.transaction((s: BrowserSessionRecord, bounds: {maxAnonymous: number; maxPerAddress: number}) => {
    const ofAddress = countAddress.get(s.address)!
    if (ofAddress >= bounds.maxPerAddress) dropOldestOfAddress.run(s.address, ofAddress - bounds.maxPerAddress + 1)
    const all = countAnonymous.get()!
    if (all >= bounds.maxAnonymous) dropOldestAnonymous.run(all - bounds.maxAnonymous + 1)
    insert.run(s.id, s.csrf, s.ownerAt, s.userId, s.address, s.expiresAt, s.usedAt)
  })
  const login = db.transaction((oldId: string, s: BrowserSessionRecord, maxOwner: number) => {
    if (exists.get(oldId) === undefined) return false
    const owners = countOwner.get()!
    if (owners >= maxOwner) dropOldestOwner.run(owners - maxOwner + 1)
    insert.run(s.id, s.csrf, s.ownerAt, s.userId, s.address, s.expiresAt, s.usedAt)
    move.run(s.id, oldId)
    drop.run(oldId)
    return true
  })
  const park = db.transaction((p: PendingAuthorizationRecord, maxPerSession: number) => {
    if (exists.get(p.sessionId) === undefined) return false
    const n = countPending.get(p.sessionId)!
    if (n >= maxPerSession) dropOldestPending.run(p.sessionId, n - maxPerSession + 1)
    insertPending.run(p.id, p.sessionId, p.request, p.createdAt, p.expiresAt)
    return true
  })
  return {
    async createAnonymous(s, bounds) {
      createAnonymous.immediate(s, bounds)
    },
    async use(id, now) {
      const r = use.get(now, id, now)
      return r ? session(r) : undefined
    },
    async login(oldId, s, maxOwner) {
      return login.immediate(oldId, s, maxOwner)
    },
    async park(p, maxPerSession) {
      return park.immediate(p, maxPerSession)
    },
    async pending(id, sessionId, now) {
      const r = findPending.get(id, sessionId, now)
      return r ? pending(r) : undefined
    },
    async end(id) {
      endSession(id)
    },
    async settle(id, sessionId) {
      return settle.run(id, sessionId).changes === 1
    },
    async count(now) {
      return liveCount.get(now)!
    },
    async prune(now) {
      return db.transaction(() => prunePending.run(now).changes + pruneSessions.run(now).changes).immediate()
    },
  }
}
