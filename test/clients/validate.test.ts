import assert from 'node:assert/strict'
import {test} from 'node:test'
import {redirectUriProblem, validateRedirectUris} from '../../src/clients/redirect-uris.js'
import {parseTokenTtl, validateDescription, validateGrantTypes, validateName, validateScopes} from '../../src/clients/validate.js'
import {GatehouseError} from '../../src/errors.js'

const invalid = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof GatehouseError && e.code === 'INVALID_INPUT' && pattern.test(e.message))

test('names: trimmed, 1-100 characters, no control characters', () => {
  assert.equal(validateName('  ci agent '), 'ci agent')
  invalid(() => validateName('   '), /empty/)
  invalid(() => validateName('x'.repeat(101)), /longer than 100/)
  assert.equal(validateName('x'.repeat(100)).length, 100)
  invalid(() => validateName('evil\nname'), /control/)
  invalid(() => validateName('bell\u0007'), /control/)
  invalid(() => validateDescription('d'.repeat(501)), /longer than 500/)
})

test('names and descriptions: Unicode format characters (Cf: bidi controls, zero-width) are refused like controls (TR36 §2.3)', () => {
  invalid(() => validateName('Docs \u202Eevil'), /invisible or control character U\+202E/)
  invalid(() => validateName('a\u200Bb'), /U\+200B/)
  invalid(() => validateName('a\u2066b\u2069'), /U\+2066/)
  invalid(() => validateDescription('a\u200Fb'), /description contains the invisible or control character U\+200F/)
  assert.equal(validateName('تطبيق 2024'), 'تطبيق 2024')
  assert.equal(validateName('Zoë & Ünal'), 'Zoë & Ünal')
})

test('scopes follow RFC 6749 §3.3 and split on spaces', () => {
  assert.deepEqual(validateScopes(['mcp memories:read', 'mcp']), ['mcp', 'memories:read'])
  invalid(() => validateScopes(['a"b']), /invalid scope/)
  invalid(() => validateScopes(['a\\b']), /invalid scope/)
  invalid(() => validateScopes(['é']), /invalid scope/)
  invalid(() => validateScopes(['x'.repeat(129)]), /invalid scope/)
  invalid(() => validateScopes(Array.from({length: 65}, (_, i) => `s${i}`)), /more than 64/)
})

test('grant types: known ones, refresh only with authorization_code', () => {
  assert.deepEqual(validateGrantTypes(['client_credentials']), ['client_credentials'])
  invalid(() => validateGrantTypes(['password']), /unknown grant type/)
  invalid(() => validateGrantTypes(['implicit']), /unknown grant type/)
  invalid(() => validateGrantTypes(['refresh_token']), /only issued with authorization_code/)
  invalid(() => validateGrantTypes([]), /at least one/)
})

test('token lifetimes parse with units and stay within bounds', () => {
  assert.equal(parseTokenTtl('900'), 900)
  assert.equal(parseTokenTtl('15m'), 900)
  assert.equal(parseTokenTtl('1h'), 3600)
  assert.equal(parseTokenTtl('2d'), 172_800)
  invalid(() => parseTokenTtl('10s'), /between/)
  invalid(() => parseTokenTtl('8d'), /between/)
  invalid(() => parseTokenTtl('1 hour'), /invalid token lifetime/)
  invalid(() => parseTokenTtl('-5'), /invalid token lifetime/)
})

test('redirect URIs: https, loopback http, private-use schemes; nothing else', () => {
  for (const ok of [
    'https://claude.ai/api/mcp/auth_callback',
    'http://127.0.0.1:33418/callback',
    'http://localhost/cb',
    'http://[::1]:8000/cb',
    'cursor://anysphere.cursor-retrieval/oauth/callback',
    'com.example.app:/oauth2redirect',
  ]) {
    assert.equal(redirectUriProblem(ok), null, ok)
  }
  const bad: Array<[string, RegExp]> = [
    ['javascript:alert(1)', /javascript/],
    ['data:text/html,hi', /data/],
    ['file:///etc/passwd', /file/],
    ['http://example.com/cb', /not loopback/],
    ['https://example.com/cb#frag', /fragment/],
    ['https://user:pw@example.com/cb', /userinfo/],
    ['/relative/path', /absolute/],
    ['https://exa mple.com/', /spaces/],
    ['https://example.com/\u0000', /control/],
  ]
  for (const [uri, why] of bad) invalid(() => validateRedirectUris([uri]), why)
})
