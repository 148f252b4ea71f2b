import type {Clock} from '../clock.js'
import type {Store} from '../store/types.js'
import {decideSpend, levelAt, waitSecondsFor, type BudgetCharge, type Budgets, type StoredLevel} from './rate-limit.js'

/**
 * Failure budgets in the store, shared by every node on it: a brute force spread over nodes
 * spends one budget. Every spend is one atomic update in the store (src/store/types.ts
 * BudgetRepository.update), so the count of failures is exact across nodes.
 *
 * The check before an attempt is the hot path (every token request), so levels are cached: a
 * key's level is read once, and the whole cache is dropped whenever the store announces a budget
 * change (this node's or, through the change feed, another's; on PostgreSQL within the
 * notification's delay, milliseconds). Without failures anywhere nothing is announced and the
 * check costs no query.
 *
 * Trust (a client known good at an address) is read from the store only when that address's
 * budget is spent, and written once per pair and process.
 */
export function createSharedBudgets({store, clock, trustTtlMs = 30 * 86_400_000}: {store: Store; clock: Clock; trustTtlMs?: number}): Budgets & {close(): void} {
  /** Levels as last read: a key mapped to undefined is known to have no row (a full bucket). */
  let cache = new Map<string, StoredLevel | undefined>()
  let generation = 0
  const unsubscribe = store.changes.subscribe((topic) => {
    if (topic === 'budgets' || topic === 'all') {
      generation++
      cache = new Map()
    }
  })

  async function levels(keys: readonly string[]): Promise<Map<string, StoredLevel | undefined>> {
    store.changes.check()
    const missing = keys.filter((k) => !cache.has(k))
    if (missing.length > 0) {
      const seen = generation
      const read = await store.budgets.levels(missing)
      // A change announced while reading: answer from what was read, but cache nothing of it.
      const into = seen === generation ? cache : new Map<string, StoredLevel | undefined>()
      if (into.size > 100_000) into.clear()
      for (const k of missing) into.set(k, read.get(k))
      if (into !== cache) return new Map(keys.map((k) => [k, into.has(k) ? into.get(k) : cache.get(k)]))
    }
    return new Map(keys.map((k) => [k, cache.get(k)]))
  }

  const update = (charges: readonly BudgetCharge[], mode: 'ifAvailable' | 'always' | 'give') =>
    store.budgets.update(
      charges.map((c) => c.key),
      (stored) => decideSpend(charges, stored, clock.now(), mode),
    )

  return {
    async wait(charges) {
      const now = clock.now()
      const known = await levels(charges.map((c) => c.key))
      return Math.max(0, ...charges.map((c) => waitSecondsFor(c.limit, levelAt(c.limit, known.get(c.key), now))))
    },
    take: (charges, mode) => update(charges, mode),
    async give(charges) {
      await update(charges, 'give')
    },
    trusted: (pair) => store.budgets.trusted(pair, clock.now() - trustTtlMs),
    trust: (pair) => store.budgets.trust(pair, clock.now()),
    close: unsubscribe,
  }
}
