import assert from 'node:assert/strict'
import {test} from 'node:test'
import {hashSecret, newClientId, newClientSecret, secretMatches} from '../../src/clients/credentials.js'

test('client ids and secrets carry recognisable prefixes and enough randomness', () => {
  const id = newClientId()
  const secret = newClientSecret()
  assert.match(id, /^gtc_[A-Za-z0-9_-]{22}$/)
  assert.match(secret, /^gts_[A-Za-z0-9_-]{43}$/)
  // 43 base64url characters carry 258 bits; the source is 32 random bytes (256 bits).
  assert.equal(Buffer.from(secret.slice(4), 'base64url').length, 32)
  const many = new Set(Array.from({length: 1000}, () => newClientSecret()))
  assert.equal(many.size, 1000)
})

test('secrets come from the injected random source', () => {
  const zeros = (n: number) => Buffer.alloc(n)
  assert.equal(newClientSecret(zeros), 'gts_' + 'A'.repeat(43))
  assert.equal(newClientId(zeros), 'gtc_' + 'A'.repeat(22))
})

test('a secret is stored as its SHA-256 and only the right one matches', () => {
  const secret = newClientSecret()
  const hash = hashSecret(secret)
  assert.match(hash, /^[0-9a-f]{64}$/)
  assert.ok(!hash.includes(secret.slice(4, 20)))
  assert.equal(secretMatches(secret, hash), true)
  assert.equal(secretMatches(secret + 'x', hash), false)
  assert.equal(secretMatches('', hash), false)
  assert.equal(secretMatches(secret, null), false)
  assert.equal(secretMatches(secret, 'not-hex'), false)
  // The all-zero stand-in used for a missing hash never matches anything.
  assert.equal(secretMatches('', null), false)
})
