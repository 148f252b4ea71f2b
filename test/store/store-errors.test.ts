/**
 * The one line `gatehouse status` and the logs show for a store failure (src/store/errors.ts
 * storeErrorLine): the driver's words, one line, bounded, never a URL's credentials.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {StoreUnavailableError, storeErrorLine} from '../../src/store/errors.js'

test('a store failure in one line: the driver\'s own words, credentials of any URL replaced, bounded', () => {
  const driver = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), {code: 'ECONNREFUSED'})
  assert.equal(storeErrorLine(new StoreUnavailableError('the database cannot be reached', {cause: driver})), 'connect ECONNREFUSED 10.0.0.5:5432')
  const coded = Object.assign(new Error('the database system is shutting down'), {code: '57P03'})
  assert.equal(storeErrorLine(coded), '57P03: the database system is shutting down')
  const leaky = new Error('could not connect with postgres://gatehouse:hunter2@db.internal:5432/gh and POSTGRESQL://u:p%40ss@h/x\nat line 2')
  const line = storeErrorLine(leaky)
  assert.equal(line, 'could not connect with postgres://***@db.internal:5432/gh and POSTGRESQL://***@h/x')
  assert.doesNotMatch(line, /hunter2|p%40ss/)
  assert.equal(storeErrorLine(new Error('x'.repeat(500))).length, 200)
  assert.equal(storeErrorLine('plain text'), 'plain text')
})
