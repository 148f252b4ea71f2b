import type {AuditCount, Store} from '../store/types.js'

/**
 * Calls and refusals per client from the audit trail (the store's `audit.counts`). A call is an
 * MCP request (`mcp.request`) the gateway let through, whatever the tool answered (ok, error);
 * a refusal is an MCP request refused by the policy or a rate limit (forbidden, rate_limited)
 * or a token request refused (`token.refused`).
 */
export interface Usage {
  calls: number
  refusals: number
}

const REFUSED_MCP = new Set(['forbidden', 'rate_limited'])

/** Which side of the chart an audit count falls on, or none. */
export function classify(c: Pick<AuditCount, 'event' | 'outcome'>): keyof Usage | null {
  if (c.event === 'mcp.request') return REFUSED_MCP.has(c.outcome) ? 'refusals' : 'calls'
  if (c.event === 'token.refused') return 'refusals'
  return null
}

/** Totals per client since `since` (ms). */
export async function usageByClient(store: Store, since: number): Promise<Map<string, Usage>> {
  const out = new Map<string, Usage>()
  for (const c of await store.audit.counts({since, bucketMs: Number.MAX_SAFE_INTEGER})) {
    const side = classify(c)
    if (side === null || c.clientId === null) continue
    let u = out.get(c.clientId)
    if (!u) out.set(c.clientId, (u = {calls: 0, refusals: 0}))
    u[side] += c.count
  }
  return out
}

/** One client's usage over the last `slots` × `slotMs` ms up to `now`, oldest slot first. */
export async function usageSeries(store: Store, {clientId, now, slotMs, slots}: {clientId: string; now: number; slotMs: number; slots: number}): Promise<Usage[]> {
  const first = (Math.floor(now / slotMs) - slots + 1) * slotMs
  const series = Array.from({length: slots}, () => ({calls: 0, refusals: 0}))
  for (const c of await store.audit.counts({since: first, bucketMs: slotMs, clientId})) {
    const side = classify(c)
    const i = Math.floor((c.bucket - first) / slotMs)
    if (side !== null && i >= 0 && i < slots) series[i]![side] += c.count
  }
  return series
}
