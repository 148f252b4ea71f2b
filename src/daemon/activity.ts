/**
 * Per-client MCP activity for `gatehouse status`: requests and errors in a sliding window
 * (default 5 minutes, in 10-second buckets) and the time of the last request. In memory only,
 * bounded: one small ring of buckets per client seen since the daemon started.
 */
import type {Clock} from '../clock.js'

export interface ClientActivity {
  requests: number
  errors: number
  /** ms since the epoch; null when none since the daemon started. */
  lastRequestAt: number | null
}

export interface ActivityTracker {
  /** One MCP request of a client; `failed` for anything but outcome "ok". */
  record(clientId: string, failed: boolean): void
  /** Counts within the window, per client seen. */
  snapshot(): Map<string, ClientActivity>
}

export function createActivityTracker({clock, windowMs = 5 * 60_000, bucketMs = 10_000}: {clock: Clock; windowMs?: number; bucketMs?: number}): ActivityTracker {
  const slots = Math.ceil(windowMs / bucketMs)
  const perClient = new Map<string, {buckets: Array<{at: number; requests: number; errors: number}>; last: number}>()
  return {
    record(clientId, failed) {
      const now = clock.now()
      const at = Math.floor(now / bucketMs)
      let entry = perClient.get(clientId)
      if (!entry) perClient.set(clientId, (entry = {buckets: [], last: now}))
      entry.last = now
      const slot = at % slots
      const bucket = entry.buckets[slot]
      if (bucket === undefined || bucket.at !== at) entry.buckets[slot] = {at, requests: 1, errors: failed ? 1 : 0}
      else {
        bucket.requests++
        if (failed) bucket.errors++
      }
    },
    snapshot() {
      const oldest = Math.floor(clock.now() / bucketMs) - slots + 1
      const out = new Map<string, ClientActivity>()
      for (const [id, entry] of perClient) {
        let requests = 0
        let errors = 0
        for (const b of entry.buckets) if (b && b.at >= oldest) ((requests += b.requests), (errors += b.errors))
        out.set(id, {requests, errors, lastRequestAt: entry.last})
      }
      return out
    },
  }
}
