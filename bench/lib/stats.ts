/** Percentiles and summaries of latency samples (milliseconds). */

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(values as ArrayLike<number>)
  a.sort()
  return a
}

export interface Summary {
  n: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = sortedCopy(values)
  let sum = 0
  for (const v of s) sum += v
  return {
    n: s.length,
    mean: s.length ? sum / s.length : Number.NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : Number.NaN,
  }
}

export function median(values: number[]): number {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The round whose `key` is the median (for odd counts) or the lower median: keeps figures of one run together. */
export function medianRound<T>(rounds: T[], key: (r: T) => number): T {
  const s = [...rounds].sort((a, b) => key(a) - key(b))
  return s[(s.length - 1) >> 1]!
}

/**
 * The median over rounds of a[i] / b[i]: two systems measured in the same alternating round are
 * compared with each other first, so drift of the machine between rounds cancels out.
 */
export function medianRatio(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length)
  const r: number[] = []
  for (let i = 0; i < n; i++) if (b[i]! > 0) r.push(a[i]! / b[i]!)
  return median(r)
}
