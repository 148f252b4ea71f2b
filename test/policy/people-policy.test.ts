/**
 * Policy rules by person (issue 17): a rule may say which users or roles may use what it
 * matches, beside (or instead of) the scopes. The first rule that matches the name decides, as
 * before; a file without these fields reads as it always did.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {parsePolicy} from '../../src/policy/parse-policy.js'
import {PolicyError} from '../../src/policy/policy.js'

const alice = {id: 'usr_' + 'a'.repeat(32), name: 'alice', role: 'owner'}
const bob = {id: 'usr_' + 'b'.repeat(32), name: 'bob', role: 'member'}

test('users and roles: who may use a tool; scopes still apply; clients acting for themselves match no person', () => {
  const p = parsePolicy(`
default: mcp
tools:
  "delete_*": {scopes: [memories:admin], roles: [owner]}
  "export_*": {users: [bob, ${alice.id}]}
  "read_*": memories:read
`)
  assert.equal(p.permits('tools', 'delete_entities', alice), true)
  assert.equal(p.permits('tools', 'delete_entities', bob), false)
  assert.equal(p.permits('tools', 'delete_entities', undefined), false, 'client credentials: no person, no role')
  assert.deepEqual(p.required('tools', 'delete_entities'), ['memories:admin'])
  assert.equal(p.permits('tools', 'export_all', bob), true, 'by name')
  assert.equal(p.permits('tools', 'export_all', alice), true, 'by id')
  assert.equal(p.permits('tools', 'export_all', {...bob, name: 'carol', id: 'usr_' + 'c'.repeat(32)}), false)
  assert.deepEqual(p.required('tools', 'export_all'), [], 'no scopes named: none needed beyond the person')
  assert.equal(p.permits('tools', 'read_graph', undefined), true, 'a rule without users/roles is for everyone')
  assert.equal(p.permits('tools', 'other', bob), true, 'the default names no one')
  assert.deepEqual(p.scopes().sort(), ['mcp', 'memories:admin', 'memories:read'])
})

test('bad rules are refused with their line', () => {
  const bad: Array<[string, RegExp, number]> = [
    ['tools:\n  "x": {roles: [admin]}\n', /unknown role "admin"/, 2],
    ['tools:\n  "x": {users: []}\n', /users must be a name or a list/, 2],
    ['tools:\n  "x":\n    scopes: a\n    people: [bob]\n', /unknown rule field "people"/, 4],
  ]
  for (const [text, message, line] of bad) {
    assert.throws(() => parsePolicy(text), (e: unknown) => e instanceof PolicyError && message.test(e.message) && e.line === line, text)
  }
})
