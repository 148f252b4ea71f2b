import type {AuditRecord, AuditRepository} from '../types.js'
import type {Sql} from './connect.js'
import {type Row, fromRow} from '../rows/audit.js'

/** The audit trail: a batch is one INSERT of arrays (unnest), one round trip whatever its size. */
export function createPostgresAudit(sql: Sql): AuditRepository {
  return {
    async append(events) {
      if (events.length === 0) return
      const col = <T>(f: (e: (typeof events)[number]) => T) => events.map(f)
      await sql(
        `INSERT INTO audit (time, event, client_id, subject, session_id, method, name, outcome, duration_ms, detail)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::text[])`,
        [
          col((e) => e.time), col((e) => e.event), col((e) => e.clientId), col((e) => e.subject ?? null), col((e) => e.sessionId ?? null),
          col((e) => e.method ?? null), col((e) => e.name ?? null), col((e) => e.outcome), col((e) => e.durationMs ?? null),
          col((e) => (e.detail ? JSON.stringify(e.detail) : null)),
        ],
      )
    },
    async query({clientId, subject, since, afterId, beforeId, event, outcome, newestFirst = false, limit = 10_000}) {
      const where: string[] = []
      const args: unknown[] = []
      if (clientId !== undefined) (args.push(clientId), where.push(`client_id = $${args.length}`))
      if (subject !== undefined) (args.push(subject), where.push(`subject = $${args.length}`))
      if (since !== undefined) (args.push(since), where.push(`time >= $${args.length}`))
      if (afterId !== undefined) (args.push(afterId), where.push(`id > $${args.length}`))
      if (beforeId !== undefined) (args.push(beforeId), where.push(`id < $${args.length}`))
      if (event !== undefined) (args.push(event), where.push(`event = $${args.length}`))
      if (outcome !== undefined) (args.push(outcome), where.push(`outcome = $${args.length}`))
      args.push(limit)
      return (await sql<Row>(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${newestFirst ? 'DESC' : ''} LIMIT $${args.length}`, args)).map(fromRow)
    },
    async counts({since, bucketMs, clientId}) {
      const args: unknown[] = [Math.max(1, Math.floor(bucketMs)), since]
      if (clientId !== undefined) args.push(clientId)
      const rows = await sql<{client_id: string | null; bucket: string | number; event: string; outcome: string; n: string | number}>(
        `SELECT client_id, (time / $1) * $1 AS bucket, event, outcome, COUNT(*) AS n FROM audit
         WHERE time >= $2 ${clientId !== undefined ? 'AND client_id = $3' : ''} GROUP BY 1, 2, 3, 4`,
        args,
      )
      return rows.map((r) => ({clientId: r.client_id, bucket: Number(r.bucket), event: r.event, outcome: r.outcome, count: Number(r.n)}))
    },
    async prune(before) {
      return (await sql('DELETE FROM audit WHERE time < $1 RETURNING id', [before])).length
    },
  }
}
