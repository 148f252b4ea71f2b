/** Time, injectable so that tests never sleep. Milliseconds since the epoch. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = {now: () => Date.now()}

/** A clock that moves only when told to; for tests. */
export function manualClock(start = Date.UTC(2026, 0, 1)): Clock & {advance(ms: number): void; set(ms: number): void} {
  let t = start
  return {
    now: () => t,
    advance(ms) {
      t += ms
    },
    set(ms) {
      t = ms
    },
  }
}
