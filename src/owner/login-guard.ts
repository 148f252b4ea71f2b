import type {Clock} from '../clock.js'
import {addressKey, createBuckets, type BucketLimit} from '../oauth/rate-limit.js'

/**
 * Budgets for the owner's password on the consent page. A failure is counted against:
 * - the browser session it came from (`perSession`), so that an attacker's own session runs dry
 *   without touching the owner's;
 * - for a browser without a device token: its address (`perAddress`, IPv6 by /64) and all such
 *   browsers together (`global`). Fresh sessions cost nothing to make, so these two are what bound
 *   an attacker's guesses: at most `perAddress` per address and `global` in all, per minute;
 * - for a browser holding a device token from an earlier login (`perDevice`), that device instead:
 *   an attacker without the password cannot obtain one, so the owner's browser keeps a budget no
 *   one else can spend.
 * `maxConcurrentChecks` bounds the password hashes (scrypt, 128 MiB each) running at once, for
 * unknown browsers; device-token holders have the same number of slots of their own.
 */
export interface OwnerLoginLimits {
  perSession: BucketLimit
  perAddress: BucketLimit
  perDevice: BucketLimit
  global: BucketLimit
  maxConcurrentChecks: number
}

export const ownerLoginDefaults: OwnerLoginLimits = {
  perSession: {burst: 5, perMinute: 5},
  perAddress: {burst: 20, perMinute: 10},
  perDevice: {burst: 10, perMinute: 10},
  global: {burst: 100, perMinute: 60},
  maxConcurrentChecks: 1,
}

/** A reserved password check: release it when the hash is done; refund it when the password was right. */
export interface LoginAttempt {
  release(): void
  refund(): void
}

/**
 * The owner-login limiter (RFC 9700 §4.10; NIST SP 800-63B §5.2.2 rate limiting). The attempt is
 * reserved (counted as a failure) before the password is hashed, synchronously, so concurrent
 * guesses cannot all pass a check that is written only after the hash; a right password gets its
 * reservation back. `reserve` answers `{retryAfter}` (seconds, ≥ 1) when a budget is spent or
 * every hash slot is busy.
 */
export function createOwnerLoginGuard({limits = ownerLoginDefaults, clock}: {limits?: OwnerLoginLimits; clock: Clock}) {
  const sessions = createBuckets(limits.perSession, clock)
  const addresses = createBuckets(limits.perAddress, clock)
  const devices = createBuckets(limits.perDevice, clock, {maxKeys: 10_000})
  const everyone = createBuckets(limits.global, clock)
  const running = {known: 0, unknown: 0}

  return {
    reserve({sessionId, address, deviceId}: {sessionId: string; address: string; deviceId: string | undefined}): LoginAttempt | {retryAfter: number} {
      const charged: Array<[ReturnType<typeof createBuckets>, string]> =
        deviceId !== undefined
          ? [
              [sessions, sessionId],
              [devices, deviceId],
            ]
          : [
              [sessions, sessionId],
              [addresses, addressKey(address)],
              [everyone, ''],
            ]
      const wait = Math.max(...charged.map(([b, k]) => b.waitSeconds(k)))
      if (wait > 0) return {retryAfter: Math.max(1, Math.ceil(wait))}
      const pool = deviceId !== undefined ? 'known' : 'unknown'
      if (running[pool] >= limits.maxConcurrentChecks) return {retryAfter: 1}
      // Nothing awaited between the checks above and here: the reservation is atomic.
      running[pool]++
      for (const [b, k] of charged) b.take(k)
      let released = false
      return {
        release() {
          if (released) return
          released = true
          running[pool]--
        },
        refund() {
          for (const [b, k] of charged) b.give(k)
        },
      }
    },
  }
}

export type OwnerLoginGuard = ReturnType<typeof createOwnerLoginGuard>
