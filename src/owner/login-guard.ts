import type {Clock} from '../clock.js'
import {addressKey, createMemoryBudgets, type BucketLimit, type BudgetCharge, type Budgets} from '../oauth/rate-limit.js'

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
  refund(): Promise<void>
}

/**
 * The owner-login limiter (RFC 9700 §4.10; NIST SP 800-63B §5.2.2 rate limiting). The attempt is
 * reserved (counted as a failure) before the password is hashed, in one atomic spend of every
 * budget it is charged to (`budgets.take(..., 'ifAvailable')`: in the store when nodes share one,
 * so concurrent guesses on several nodes cannot all pass a check written only after the hash);
 * a right password gets its reservation back. `reserve` answers `{retryAfter}` (seconds, ≥ 1)
 * when a budget is spent or every hash slot of this node is busy (hash slots are CPU, so per node).
 */
export function createOwnerLoginGuard({limits = ownerLoginDefaults, clock, budgets = createMemoryBudgets(clock)}: {limits?: OwnerLoginLimits; clock: Clock; budgets?: Budgets}) {
  const running = {known: 0, unknown: 0}

  return {
    async reserve({sessionId, address, deviceId}: {sessionId: string; address: string; deviceId: string | undefined}): Promise<LoginAttempt | {retryAfter: number}> {
      const charged: BudgetCharge[] =
        deviceId !== undefined
          ? [
              {key: `login-session:${sessionId}`, limit: limits.perSession},
              {key: `login-device:${deviceId}`, limit: limits.perDevice},
            ]
          : [
              {key: `login-session:${sessionId}`, limit: limits.perSession},
              {key: `login-addr:${addressKey(address)}`, limit: limits.perAddress},
              {key: 'login-all', limit: limits.global},
            ]
      // A spent budget is named before a busy slot (its wait is the longer, truer answer).
      const spent = await budgets.wait(charged)
      if (spent > 0) return {retryAfter: Math.max(1, Math.ceil(spent))}
      const pool = deviceId !== undefined ? 'known' : 'unknown'
      if (running[pool] >= limits.maxConcurrentChecks) return {retryAfter: 1}
      // The slot is held from here (synchronously after the check), the budgets spent atomically.
      running[pool]++
      let released = false
      const release = () => {
        if (released) return
        released = true
        running[pool]--
      }
      let wait: number
      try {
        wait = await budgets.take(charged, 'ifAvailable')
      } catch (error) {
        release()
        throw error
      }
      if (wait > 0) {
        release()
        return {retryAfter: Math.max(1, Math.ceil(wait))}
      }
      return {
        release,
        refund: () => budgets.give(charged),
      }
    },
  }
}

export type OwnerLoginGuard = ReturnType<typeof createOwnerLoginGuard>
