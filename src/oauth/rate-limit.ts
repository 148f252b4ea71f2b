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
    /** Spends one attempt (or what is left of one); returns how much was spent, 0..1, for `give`. */
    take(key: string): number {
      const tokens = level(key)
      if (buckets.size >= maxKeys && !buckets.has(key)) buckets.delete(buckets.keys().next().value!)
      buckets.set(key, {tokens: Math.max(0, tokens - 1), at: clock.now()})
      return Math.min(1, tokens)
    },
    /**
     * Gives back `amount` (default one attempt) taken before: a reservation that turned out not to
     * be a failure. Give back what `take` returned, so a refund never adds what was not spent.
     */
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

/**
 * Failed client authentication is limited per client and per remote address (RFC 9700 §4.10,
 * brute force), without locking out other clients that authenticate correctly from the same
 * address: a client that has authenticated successfully from an address is not held back by
 * that address's budget (every local agent shares 127.0.0.1), only by its own.
 */
export function createAuthFailureLimiter({
  perClient,
  perAddress,
  clock,
}: {
  perClient: BucketLimit
  perAddress: BucketLimit
  clock: Clock
}) {
  const clients = createBuckets(perClient, clock)
  const addresses = createBuckets(perAddress, clock)
  const trusted = new Map<string, number>()
  const pair = (clientId: string, address: string) => `${address}\u0000${clientId}`

  /** Seconds to wait before this attempt may be checked; 0 when it may go ahead. */
  const retryAfter = (clientId: string, address: string): number => {
    const perClientWait = clients.waitSeconds(clientId)
    if (perClientWait > 0) return perClientWait
    if (trusted.has(pair(clientId, address))) return 0
    return addresses.waitSeconds(address)
  }

  return {
    retryAfter,
    failed(clientId: string, address: string): void {
      clients.take(clientId)
      addresses.take(address)
    },
    /**
     * Checks and spends one attempt in one step, with nothing awaited in between (RFC 9700 §4.10:
     * concurrent guesses must not all pass a check made before any of them is counted). Returns
     * the seconds to wait when refused (nothing spent), or a reservation: `refund()` when the
     * attempt did not fail (it gives back exactly what was spent), nothing when it did.
     */
    reserve(clientId: string, address: string): {wait: number} | {refund(): void} {
      const wait = retryAfter(clientId, address)
      if (wait > 0) return {wait}
      const fromClient = clients.take(clientId)
      const fromAddress = addresses.take(address)
      return {
        refund() {
          clients.give(clientId, fromClient)
          addresses.give(address, fromAddress)
        },
      }
    },
    succeeded(clientId: string, address: string): void {
      const key = pair(clientId, address)
      if (trusted.has(key)) return
      if (trusted.size >= 10_000) trusted.delete(trusted.keys().next().value!)
      trusted.set(key, clock.now())
    },
  }
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>
