import type {NodeRecord, NodeRepository} from '../types.js'
import type {Sql} from './connect.js'
import {type Row} from '../rows/nodes.js'

const fromRow = (r: Row): NodeRecord => ({id: r.id, url: r.url, host: r.host, pid: r.pid, version: r.version, startedAt: r.started_at, seenAt: r.seen_at})

/** Daemon heartbeats: one row per node, refreshed every few seconds (src/daemon/heartbeat.ts). */
export function createPostgresNodes(sql: Sql): NodeRepository {
  return {
    async beat(n) {
      await sql(
        `INSERT INTO nodes (id, url, host, pid, version, started_at, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, host = excluded.host, pid = excluded.pid, version = excluded.version, seen_at = excluded.seen_at`,
        [n.id, n.url, n.host, n.pid, n.version, n.startedAt, n.seenAt],
      )
    },
    async live(since) {
      return (await sql<Row>('SELECT * FROM nodes WHERE seen_at >= $1 ORDER BY started_at, id', [since])).map(fromRow)
    },
    async leave(id, staleBefore) {
      await sql('DELETE FROM nodes WHERE id = $1 OR seen_at < $2', [id, staleBefore])
    },
  }
}
