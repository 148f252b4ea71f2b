import type Database from 'better-sqlite3'
import type {AuditRecord, AuditRepository} from '../types.js'
import {type Row, fromRow} from '../rows/audit.js'

interface CountRow {
  client_id: string | null
  bucket: number
  event: string
  outcome: string
  n: number
}

export function createSqliteAudit(db: Database.Database): AuditRepository {
  const insert = db.prepare(`INSERT INTO audit (time, event, client_id, subject, session_id, method, name, outcome, duration_ms, detail)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const appendAll = db.transaction((events: Parameters<AuditRepository['append']>[0]) => {
    for (const e of events) {
      insert.run(e.time, e.event, e.clientId, e.subject ?? null, e.sessionId ?? null, e.method ?? null, e.name ?? null, e.outcome, e.durationMs ?? null, e.detail ? JSON.stringify(e.detail) : null)
    }
  })
  const queries = new Map<string, Database.Statement<unknown[], Row>>()
  const counts = new Map<string, Database.Statement<unknown[], CountRow>>()
  const prune = db.prepare('DELETE FROM audit WHERE time < ?')
  return {
    async append(events) {
      if (events.length > 0) appendAll.immediate(events)
    },
    async query({clientId, subject, since, afterId, beforeId, event, outcome, newestFirst = false, limit = 10_000}) {
      const where: string[] = []
      const args: unknown[] = []
      if (clientId !== undefined) (where.push('client_id = ?'), args.push(clientId))
      if (subject !== undefined) (where.push('subject = ?'), args.push(subject))
      if (since !== undefined) (where.push('time >= ?'), args.push(since))
      if (afterId !== undefined) (where.push('id > ?'), args.push(afterId))
      if (beforeId !== undefined) (where.push('id < ?'), args.push(beforeId))
      if (event !== undefined) (where.push('event = ?'), args.push(event))
      if (outcome !== undefined) (where.push('outcome = ?'), args.push(outcome))
      const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${newestFirst ? 'DESC' : ''} LIMIT ?`
      let stmt = queries.get(sql)
      if (!stmt) queries.set(sql, (stmt = db.prepare<unknown[], Row>(sql)))
      return stmt.all(...args, limit).map(fromRow)
    },
    async counts({since, bucketMs, clientId}) {
      const sql = `SELECT client_id, (time / ?) * ? AS bucket, event, outcome, COUNT(*) AS n FROM audit
        WHERE time >= ? ${clientId !== undefined ? 'AND client_id = ?' : ''} GROUP BY client_id, bucket, event, outcome`
      let stmt = counts.get(sql)
      if (!stmt) counts.set(sql, (stmt = db.prepare<unknown[], CountRow>(sql)))
      const b = Math.max(1, Math.floor(bucketMs))
      return stmt.all(b, b, since, ...(clientId !== undefined ? [clientId] : [])).map((r) => ({clientId: r.client_id, bucket: r.bucket, event: r.event, outcome: r.outcome, count: r.n}))
    },
    async prune(before) {
      return prune.run(before).changes
    },
  }
}
