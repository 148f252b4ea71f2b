import {invalidInput} from '../errors.js'

const UNIT_SECONDS = {s: 1, m: 60, h: 3600, d: 86_400} as const

/** Durations like 90, 90s, 15m, 1h, 2d, in seconds, checked against bounds (seconds). */
export function parseDuration(raw: string, what: string, {min, max}: {min: number; max: number}): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(raw.trim())
  if (!m) throw invalidInput(`invalid ${what} ${JSON.stringify(raw)}; use seconds or a number with s, m, h or d (e.g. 15m, 1h)`)
  const seconds = Number(m[1]) * UNIT_SECONDS[(m[2] ?? 's') as keyof typeof UNIT_SECONDS]
  if (seconds < min || seconds > max) throw invalidInput(`${what} must be between ${describe(min)} and ${describe(max)}`)
  return seconds
}

const describe = (s: number) => (s % 86_400 === 0 ? `${s / 86_400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`)
