import assert from 'node:assert/strict'
import type {Store} from '../../src/store/types.js'

/**
 * Resolves once `store` hears a change of `topic` (or `all`) on its change feed
 * (src/store/changes.ts), checking the feed every 10 ms; fails the test after `withinMs`.
 * Subscribes at once, so call it before the change it waits for (or pass `run`, which it awaits
 * after subscribing).
 */
export async function heard(store: Store, topic: string, withinMs = 2000, run?: () => Promise<unknown>): Promise<void> {
  let got = false
  const stop = store.changes.subscribe((t) => {
    if (t === topic || t === 'all') got = true
  })
  try {
    await run?.()
    const deadline = Date.now() + withinMs
    while (!got) {
      if (Date.now() > deadline) assert.fail(`no ${topic} change heard within ${withinMs} ms`)
      await new Promise((r) => setTimeout(r, 10))
      store.changes.check()
    }
  } finally {
    stop()
  }
}
