/**
 * How many bytes of request bodies the daemon holds at once, in total and per client (the OAuth
 * client once the bearer check has named it, else the remote address). Bodies are held while
 * they are read, decoded and parsed; 40 concurrent 4 MiB MCP calls took the daemon from 68 MB to
 * 1 GB of memory before this bound (issue 11, item 25). Beyond it a request is refused with 503
 * and Retry-After (RFC 9110 §15.6.4, §10.2.3), and its body discarded.
 */
export interface BodyBudgetLimits {
  /** Bytes of bodies held at once, all clients together. */
  totalBytes: number
  /** Bytes of bodies held at once by one client (or one address before authentication). */
  perClientBytes: number
}

export class BodyBudget {
  private used = 0
  private readonly byKey = new Map<string, number>()

  constructor(private readonly limits: BodyBudgetLimits) {}

  /** Takes `bytes` for `key` if both bounds allow; false (taking nothing) otherwise. */
  tryTake(key: string, bytes: number): boolean {
    const mine = this.byKey.get(key) ?? 0
    if (this.used + bytes > this.limits.totalBytes || mine + bytes > this.limits.perClientBytes) return false
    this.used += bytes
    this.byKey.set(key, mine + bytes)
    return true
  }

  /** Gives back what tryTake took. */
  give(key: string, bytes: number): void {
    if (bytes <= 0) return
    this.used -= bytes
    const left = (this.byKey.get(key) ?? 0) - bytes
    if (left > 0) this.byKey.set(key, left)
    else this.byKey.delete(key)
  }

  /** Bytes held now (for tests and diagnostics). */
  get inUse(): number {
    return this.used
  }

  /**
   * A lease for one request: bytes taken under the key that `key()` names at the time of each
   * take (the client id is known only after authentication), all given back by release().
   */
  lease(key: () => string): BodyLease {
    let held = 0
    let heldBy = ''
    return {
      take: (bytes) => {
        const k = held === 0 ? key() : heldBy
        if (!this.tryTake(k, bytes)) return false
        heldBy = k
        held += bytes
        return true
      },
      release: () => {
        this.give(heldBy, held)
        held = 0
      },
    }
  }
}

export interface BodyLease {
  take(bytes: number): boolean
  release(): void
}
