import type {Clock} from '../clock.js'

export interface BucketLimit {
  /** Attempts allowed at once. */
  burst: number
  /** Attempts regained per minute. */
  perMinute: number
}

/**
 * Token buckets keyed by string: `take` spends one and says how long to wait when none is left.
 * Buckets refill continuously; full buckets are forgotten, so memory follows live offenders only.
 */
export function createBuckets({burst, perMinute}: BucketLimit, clock: Clock, {maxKeys = 100_000}: {maxKeys?: number} = {}) {
  const buckets = new Map<string, {tokens: number; at: number}>()
  const ratePerMs = perMinute / 60_000

  const level = (key: string) => {
    const b = buckets.get(key)
    if (!b) return burst
    const tokens = Math.min(burst, b.tokens + (clock.now() - b.at) * ratePerMs)
    if (tokens >= burst) buckets.delete(key)
    return tokens
  }

  return {
    /** Seconds until one attempt is available again; 0 when one is available now. */
    waitSeconds(key: string): number {
      const tokens = level(key)
      return tokens >= 1 ? 0 : (1 - tokens) / ratePerMs / 1000
    },
    /** Spends one attempt (or what is left of one); returns how much was spent, for `give`. */
    take(key: string): number {
      const tokens = level(key)
      if (buckets.size >= maxKeys && !buckets.has(key)) buckets.delete(buckets.keys().next().value!)
      const left = Math.max(0, tokens - 1)
      buckets.set(key, {tokens: left, at: clock.now()})
      return tokens - left
    },
    /** Gives back what a `take` spent (a reservation that turned out not to be a failure): never more. */
    give(key: string, amount = 1): void {
      const tokens = level(key)
      if (tokens + amount >= burst) buckets.delete(key)
      else buckets.set(key, {tokens: tokens + amount, at: clock.now()})
    },
  }
}

export type Buckets = ReturnType<typeof createBuckets>

/**
 * The key under which a remote address is budgeted: an IPv4 address as is (also when written
 * IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address by its /64 prefix, which is what one subscriber
 * gets (RFC 6177 §2, RFC 4291 §2.5.4): counting single IPv6 addresses would give an attacker
 * 2^64 budgets.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!address.includes(':')) return address
  const bare = address.split('%')[0]!.toLowerCase()
  const [head = '', tail] = bare.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`
}

/** One bucket to charge: its key (already namespaced by the caller) and its limit. */
export interface BudgetCharge {
  key: string
  limit: BucketLimit
}

/** A stored level (src/store/types.ts BudgetLevel): tokens left at `at`, full again at `fullAt`. */
export interface StoredLevel {
  tokens: number
  at: number
  fullAt: number
}

/** Tokens in a bucket at `now`, from its stored level (undefined: full). */
export function levelAt({burst, perMinute}: BucketLimit, stored: StoredLevel | undefined, now: number): number {
  if (!stored) return burst
  return Math.min(burst, stored.tokens + Math.max(0, now - stored.at) * (perMinute / 60_000))
}

/** The stored level for `tokens` at `now`, or null when the bucket is full (nothing to keep). */
export function levelToStore({burst, perMinute}: BucketLimit, tokens: number, now: number): StoredLevel | null {
  if (tokens >= burst) return null
  return {tokens, at: now, fullAt: now + Math.ceil((burst - tokens) / (perMinute / 60_000))}
}

/** Seconds until the bucket holds one attempt; 0 when it does now. */
export function waitSecondsFor(limit: BucketLimit, tokens: number): number {
  return tokens >= 1 ? 0 : (1 - tokens) / (limit.perMinute / 60_000) / 1000
}

/**
 * The rule of a spend across several buckets, for a store's atomic update: with `ifAvailable`,
 * one attempt is taken from every bucket only if every bucket has one (else nothing, and the wait
 * is answered); without, one is taken from each regardless (a failure that happened). `give`
 * returns one to each. Pure: levels in, writes and the wait (seconds) out.
 */
export function decideSpend(charges: readonly BudgetCharge[], levels: ReadonlyMap<string, StoredLevel>, now: number, mode: 'ifAvailable' | 'always' | 'give') {
  const tokens = charges.map((c) => levelAt(c.limit, levels.get(c.key), now))
  const wait = Math.max(0, ...charges.map((c, i) => waitSecondsFor(c.limit, tokens[i]!)))
  const writes = new Map<string, StoredLevel | null>()
  if (mode === 'ifAvailable' && wait > 0) return {writes, result: wait}
  charges.forEach((c, i) => writes.set(c.key, levelToStore(c.limit, mode === 'give' ? Math.min(c.limit.burst, tokens[i]! + 1) : Math.max(0, tokens[i]! - 1), now)))
  return {writes, result: mode === 'always' ? wait : 0}
}

/**
 * Failure budgets, in memory (one node) or in the store (every node: src/oauth/shared-budgets.ts).
 * Keys are namespaced by the caller ("client:", "addr:", "login-session:", ...).
 */
export interface Budgets {
  /** Seconds until every bucket has an attempt; 0 when all have one now. */
  wait(charges: readonly BudgetCharge[]): Promise<number>
  /**
   * `ifAvailable`: atomically, one attempt from every bucket if all have one, answering 0; else
   * nothing is spent and the wait (seconds) is answered. `always`: one from each, answering the
   * wait there was before.
   */
  take(charges: readonly BudgetCharge[], mode: 'ifAvailable' | 'always'): Promise<number>
  /** Gives back one attempt to each (a reservation that turned out not to be a failure). */
  give(charges: readonly BudgetCharge[]): Promise<void>
  /** Whether a (client, address) pair has authenticated successfully; `trust` records that it has. */
  trusted(pair: string): Promise<boolean>
  trust(pair: string): Promise<void>
}

/**
 * Budgets of one process: a map, bounded (`maxKeys`; the oldest entry goes first), full buckets
 * forgotten. What the daemon uses on SQLite, where it is the only node (measured faster than the
 * store-backed budgets: docs/DESIGN.md).
 */
export function createMemoryBudgets(clock: Clock, {maxKeys = 100_000, maxTrusted = 10_000}: {maxKeys?: number; maxTrusted?: number} = {}): Budgets {
  const levels = new Map<string, StoredLevel>()
  const trusted = new Set<string>()
  const apply = (charges: readonly BudgetCharge[], mode: 'ifAvailable' | 'always' | 'give') => {
    const now = clock.now()
    for (const c of charges) {
      const l = levels.get(c.key)
      if (l && l.fullAt <= now) levels.delete(c.key)
    }
    const {writes, result} = decideSpend(charges, levels, now, mode)
    for (const [key, level] of writes) {
      if (level === null) levels.delete(key)
      else {
        if (levels.size >= maxKeys && !levels.has(key)) levels.delete(levels.keys().next().value!)
        levels.set(key, level)
      }
    }
    return result
  }
  return {
    async wait(charges) {
      const now = clock.now()
      return Math.max(0, ...charges.map((c) => waitSecondsFor(c.limit, levelAt(c.limit, levels.get(c.key), now))))
    },
    async take(charges, mode) {
      return apply(charges, mode)
    },
    async give(charges) {
      apply(charges, 'give')
    },
    async trusted(pair) {
      return trusted.has(pair)
    },
    async trust(pair) {
      if (trusted.has(pair)) return
      if (trusted.size >= maxTrusted) trusted.delete(trusted.values().next().value!)
      trusted.add(pair)
    },
  }
}

/**
 * Failed client authentication is limited per client and per remote address (RFC 9700 §4.10,
 * brute force), without locking out other clients that authenticate correctly from the same
 * address: a client that has authenticated successfully from an address is not held back by
 * that address's budget (every local agent shares 127.0.0.1), only by its own. The budgets are
 * the store's when several nodes share one (a brute force spread over nodes spends one budget).
 */
export function createAuthFailureLimiter({perClient, perAddress, budgets, clock}: {perClient: BucketLimit; perAddress: BucketLimit; budgets: Budgets; clock: Clock}) {
  const client = (clientId: string): BudgetCharge => ({key: `client:${clientId}`, limit: perClient})
  const address = (remote: string): BudgetCharge => ({key: `addr:${addressKey(remote)}`, limit: perAddress})
  // An address key holds no '|' (and PostgreSQL text may hold no NUL): the first '|' splits.
  const pair = (clientId: string, remote: string) => `${addressKey(remote)}|${clientId}`
  const known = new Set<string>()
  // This node's attempts in flight and failures, counted synchronously: the reservation below.
  const localClients = createBuckets(perClient, clock)
  const localAddresses = createBuckets(perAddress, clock)

  /** Seconds to wait before this attempt may be checked (the shared budgets); 0 when it may go ahead. */
  async function retryAfter(clientId: string, remoteAddress: string): Promise<number> {
    const perClientWait = await budgets.wait([client(clientId)])
    if (perClientWait > 0) return perClientWait
    const perAddressWait = await budgets.wait([address(remoteAddress)])
    if (perAddressWait === 0) return 0
    // Only a spent address budget asks whether this client is known there (possibly from another node).
    const key = pair(clientId, remoteAddress)
    if (known.has(key) || (await budgets.trusted(key))) return 0
    return perAddressWait
  }

  return {
    retryAfter,
    /**
     * Reserves one attempt before it is checked (RFC 9700 §4.10: concurrent guesses must not all
     * pass a check made before any of them is counted), in this node's own buckets, synchronously:
     * call it after `retryAfter` (the shared budgets: every node's failures) has said go, with
     * nothing awaited between this and the verdict where the verdict is synchronous (a secret),
     * so concurrent correct requests never see each other's reservations. Answers the seconds to
     * wait when refused (nothing spent), or a reservation: `refund()` (exact: it gives back what
     * was taken, never more) when the attempt did not fail, `failed()` when it did (then counted in
     * the shared budgets too). Concurrent guesses are bounded by each node's buckets, and across
     * nodes by the shared budgets, each node at most one burst ahead of them.
     */
    reserve(clientId: string, remoteAddress: string): {wait: number} | {refund(): void; failed(): Promise<void>} {
      const addressKeyed = addressKey(remoteAddress)
      const wait = localClients.waitSeconds(clientId) || (known.has(pair(clientId, remoteAddress)) ? 0 : localAddresses.waitSeconds(addressKeyed))
      if (wait > 0) return {wait}
      const fromClient = localClients.take(clientId)
      const fromAddress = localAddresses.take(addressKeyed)
      return {
        refund() {
          localClients.give(clientId, fromClient)
          localAddresses.give(addressKeyed, fromAddress)
        },
        failed: () => budgets.take([client(clientId), address(remoteAddress)], 'always').then(() => undefined),
      }
    },
    async failed(clientId: string, remoteAddress: string): Promise<void> {
      await budgets.take([client(clientId), address(remoteAddress)], 'always')
    },
    async succeeded(clientId: string, remoteAddress: string): Promise<void> {
      const key = pair(clientId, remoteAddress)
      // Written once per pair and process: the hot path of a known client writes nothing.
      if (known.has(key)) return
      if (known.size >= 10_000) known.delete(known.values().next().value!)
      known.add(key)
      await budgets.trust(key)
    },
  }
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>
