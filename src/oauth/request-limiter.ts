import type {Clock} from '../clock.js'
import {createBuckets} from './rate-limit.js'

/**
 * Opt-in limits on successful traffic, per client: N requests per minute, in bursts of up to N
 * (CONTRACT.md "Rate limits": off by default, set server-wide or per client). Each limit value
 * gets its own buckets, so changing a client's limit takes effect on its next request.
 */
export function createRequestLimiter(clock: Clock) {
  const byLimit = new Map<number, ReturnType<typeof createBuckets>>()
  return {
    /** Seconds to wait, or 0 when the request may go ahead (and is counted). */
    take(clientId: string, perMinute: number | null): number {
      if (perMinute === null || perMinute <= 0) return 0
      let buckets = byLimit.get(perMinute)
      if (!buckets) byLimit.set(perMinute, (buckets = createBuckets({burst: perMinute, perMinute}, clock)))
      const wait = buckets.waitSeconds(clientId)
      if (wait > 0) return wait
      buckets.take(clientId)
      return 0
    },
  }
}

export type RequestLimiter = ReturnType<typeof createRequestLimiter>
