import type pg from 'pg'
import type {BudgetLevel, BudgetRepository} from '../types.js'
import {transaction, type Sql} from './connect.js'

interface Row {
  key: string
  tokens: number
  at: number
  full_at: number
}

const levels = (rows: Row[]) => new Map(rows.map((r) => [r.key, {tokens: r.tokens, at: r.at, fullAt: r.full_at} satisfies BudgetLevel]))

/**
 * Failure budgets shared by every node. An update takes a transaction-scoped advisory lock per
 * key (sorted, so two nodes never deadlock), which also serialises the first spend of a key that
 * has no row yet (a row lock could not).
 */
export function createPostgresBudgets(sql: Sql, pool: pg.Pool): BudgetRepository {
  return {
    async levels(keys) {
      if (keys.length === 0) return new Map()
      return levels(await sql<Row>('SELECT * FROM budgets WHERE key = ANY($1::text[])', [keys]))
    },
    async update(keys, decide) {
      const sorted = [...new Set(keys)].sort()
      return transaction(pool, async (tx) => {
        await tx(`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k`, [sorted])
        const {writes, result} = decide(levels(await tx<Row>('SELECT * FROM budgets WHERE key = ANY($1::text[])', [sorted])))
        const put = [...writes].filter(([, l]) => l !== null) as Array<[string, BudgetLevel]>
        const gone = [...writes].filter(([, l]) => l === null).map(([k]) => k)
        if (put.length > 0) {
          await tx(
            `INSERT INTO budgets (key, tokens, at, full_at) SELECT * FROM unnest($1::text[], $2::float8[], $3::int8[], $4::int8[])
             ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at, full_at = excluded.full_at`,
            [put.map(([k]) => k), put.map(([, l]) => l.tokens), put.map(([, l]) => l.at), put.map(([, l]) => l.fullAt)],
          )
        }
        if (gone.length > 0) await tx('DELETE FROM budgets WHERE key = ANY($1::text[])', [gone])
        return result
      })
    },
    async trust(pair, at) {
      await sql('INSERT INTO budget_trust (pair, at) VALUES ($1, $2) ON CONFLICT (pair) DO UPDATE SET at = greatest(budget_trust.at, excluded.at)', [pair, at])
    },
    async trusted(pair, since) {
      return (await sql('SELECT 1 FROM budget_trust WHERE pair = $1 AND at >= $2', [pair, since])).length > 0
    },
    async prune(now, trustBefore) {
      const a = await sql('DELETE FROM budgets WHERE full_at <= $1 RETURNING key', [now])
      const b = await sql('DELETE FROM budget_trust WHERE at < $1 RETURNING pair', [trustBefore])
      return a.length + b.length
    },
  }
}
