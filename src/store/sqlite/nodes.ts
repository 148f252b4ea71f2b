import type Database from 'better-sqlite3'
import type {NodeRecord, NodeRepository} from '../types.js'
import {type Row} from '../rows/nodes.js'

export const nodeFromRow = (r: Row): NodeRecord => ({id: r.id, url: r.url, host: r.host, pid: r.pid, version: r.version, startedAt: r.started_at, seenAt: r.seen_at})

/** Daemon heartbeats on SQLite (one daemon per data dir: its own row). */
export function createSqliteNodes(db: Database.Database): NodeRepository {
  const beat = db.prepare(`INSERT INTO nodes (id, url, host, pid, version, started_at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET url = excluded.url, host = excluded.host, pid = excluded.pid, version = excluded.version, seen_at = excluded.seen_at`)
  const live = db.prepare<[number], Row>('SELECT * FROM nodes WHERE seen_at >= ? ORDER BY started_at, id')
  const leave = db.prepare('DELETE FROM nodes WHERE id = ? OR seen_at < ?')
  return {
    async beat(n) {
      beat.run(n.id, n.url, n.host, n.pid, n.version, n.startedAt, n.seenAt)
    },
    async live(since) {
      return live.all(since).map(nodeFromRow)
    },
    async leave(id, staleBefore) {
      leave.run(id, staleBefore)
    },
  }
}
