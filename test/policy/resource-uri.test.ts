// The normal form of resource URIs and of the policy's resource patterns (issue 11, item 1).
// Rules: RFC 3986 §6.2.2 (case, percent-encoding, dot segments), RFC 8089 §2 (file authority),
// WHATWG URL. The daemon-level checks are in test/security/policy-bypass.test.ts.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {parsePolicy} from '../../src/policy/parse-policy.js'
import {normalizeResourceUri, ResourceUriError} from '../../src/policy/resource-uri.js'

test('the normal form is idempotent and keeps URI templates intact', () => {
  for (const raw of ['FILE://localhost/a/../b/%7Ec', 'Test://Counter/x/./y', 'http://EX.com:80/a?q=%2f#f', 'file:///a/{+path}', 'urn:isbn:0451450523', 'file:///d%C3%A9j%c3%a0']) {
    const once = normalizeResourceUri(raw)
    assert.equal(normalizeResourceUri(once), once, raw)
  }
  assert.equal(normalizeResourceUri('Test://Counter/A/../b'), 'test://counter/b')
  assert.equal(normalizeResourceUri('file:///a/{+path}'), 'file:///a/{+path}')
  assert.equal(normalizeResourceUri('file:///d%c3%a9'), 'file:///d%C3%A9')
  assert.equal(normalizeResourceUri('file:///dé'), 'file:///d%C3%A9')
  assert.throws(() => normalizeResourceUri('custom:a/../b'), ResourceUriError)
  assert.throws(() => normalizeResourceUri('x'.repeat(9000)), ResourceUriError)
})

test("a policy's resource patterns are read in the same normal form as the URIs", () => {
  const policy = parsePolicy('resources:\n  "FILE://LOCALHOST/%70rivate/*": files:private\n  "test://Counter/é*": counter:read\n')
  assert.deepEqual(policy.required('resources', normalizeResourceUri('file:///private/secret.txt')), ['files:private'])
  assert.deepEqual(policy.required('resources', normalizeResourceUri('test://counter/éte')), ['counter:read'])
  assert.deepEqual(policy.required('resources', normalizeResourceUri('file:///public/x')), [])
})
