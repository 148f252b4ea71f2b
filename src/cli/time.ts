import {invalidInput} from '../errors.js'

/** `--since`: an ISO 8601 time, or an age such as 30s, 15m, 2h, 7d (that long ago). */
export function parseSince(raw: string, now: number): number {
  const age = /^(\d+)\s*(s|m|h|d)$/.exec(raw.trim())
  if (age) return now - Number(age[1]) * {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[age[2] as 's' | 'm' | 'h' | 'd']
  if (/^\d{4}-\d\d-\d\d/.test(raw)) {
    const t = Date.parse(raw)
    if (!Number.isNaN(t)) return t
  }
  throw invalidInput(`invalid --since ${JSON.stringify(raw)}: use an ISO 8601 time (2026-11-22T10:00:00Z) or an age (30m, 2h, 7d)`)
}
