import type Database from 'better-sqlite3'
import type {BudgetLevel, BudgetRepository} from '../types.js'

interface Row {
  key: string
  tokens: number
  at: number
  full_at: number
}

/** Failure budgets on SQLite (one daemon per data dir; the daemon keeps them in memory, this is the contract's twin). */
export function createSqliteBudgets(db: Database.Database): BudgetRepository {
  const get = db.prepare<[string], Row>('SELECT * FROM budgets WHERE key = ?')
  const put = db.prepare('INSERT INTO budgets (key, tokens, at, full_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at, full_at = excluded.full_at')
  const del = db.prepare('DELETE FROM budgets WHERE key = ?')
  const trust = db.prepare('INSERT INTO budget_trust (pair, at) VALUES (?, ?) ON CONFLICT (pair) DO UPDATE SET at = max(at, excluded.at)')
  const trusted = db.prepare<[string, number], number>('SELECT 1 FROM budget_trust WHERE pair = ? AND at >= ?').pluck()
  const pruneLevels = db.prepare('DELETE FROM budgets WHERE full_at <= ?')
  const pruneTrust = db.prepare('DELETE FROM budget_trust WHERE at < ?')
  const read = (keys: readonly string[]) => {
    const out = new Map<string, BudgetLevel>()
    for (const key of keys) {
      const r = get.get(key)
      if (r) out.set(key, {tokens: r.tokens, at: r.at, fullAt: r.full_at})
    }
    return out
  }
  return {
    async levels(keys) {
      return read(keys)
    },
    async update(keys, decide) {
      const run = db.transaction(() => {
        const {writes, result} = decide(read(keys))
        for (const [key, level] of writes) {
          if (level === null) del.run(key)
          else put.run(key, level.tokens, level.at, level.fullAt)
        }
        return result
      })
      return run.immediate()
    },
    async trust(pair, at) {
      trust.run(pair, at)
    },
    async trusted(pair, since) {
      return trusted.get(pair, since) !== undefined
    },
    async prune(now, trustBefore) {
      return db.transaction(() => pruneLevels.run(now).changes + pruneTrust.run(trustBefore).changes).immediate()
    },
  }
}
