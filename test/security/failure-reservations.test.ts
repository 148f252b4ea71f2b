// The failure limiter's reservation (src/oauth/rate-limit.ts): checked and spent in one step,
// refunded exactly. Rule: RFC 9700 §4.10 (the documented budget holds however attempts overlap);
// CONTRACT.md "Rate limits" (clients that authenticate correctly from an address are spared).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {manualClock} from '../../src/clock.js'
import {createAuthFailureLimiter, createMemoryBudgets} from '../../src/oauth/rate-limit.js'

const limits = {perClient: {burst: 3, perMinute: 6}, perAddress: {burst: 5, perMinute: 6}}

test('reserve spends one attempt at once: a burst of reservations is cut at the budget, with a wait (RFC 9700 §4.10)', () => {
  const clock = manualClock()
  const limiter = createAuthFailureLimiter({...limits, budgets: createMemoryBudgets(clock), clock})
  const held = Array.from({length: 5}, () => limiter.reserve('gtc_a', '127.0.0.1'))
  assert.equal(held.filter((r) => 'refund' in r).length, 3)
  const refused = held.filter((r) => 'wait' in r) as Array<{wait: number}>
  assert.equal(refused.length, 2)
  for (const r of refused) assert.ok(r.wait > 0 && r.wait <= 10, String(r.wait))
})

test('a refund gives back exactly what was spent: never more than the bucket lost (no budget minted by successes)', async () => {
  const clock = manualClock()
  const limiter = createAuthFailureLimiter({...limits, budgets: createMemoryBudgets(clock), clock})
  // Spend the address budget with failures of unknown clients.
  for (let i = 0; i < 5; i++) assert.ok('refund' in limiter.reserve(`gtc_x${i}`, '10.0.0.1'))
  // A client trusted on this address is spared the address budget ...
  await limiter.succeeded('gtc_good', '10.0.0.1')
  for (let i = 0; i < 10; i++) {
    const r = limiter.reserve('gtc_good', '10.0.0.1')
    assert.ok('refund' in r, 'the trusted client goes ahead')
    r.refund()
  }
  // ... and its refunds did not refill the address: a new client there still waits.
  assert.ok('wait' in limiter.reserve('gtc_new', '10.0.0.1'))
  // Half a minute later (6 per minute): 3 attempts regained, not more.
  clock.advance(30_000)
  const after = Array.from({length: 4}, (_, i) => limiter.reserve(`gtc_n${i}`, '10.0.0.1'))
  assert.equal(after.filter((r) => 'refund' in r).length, 3)
})
