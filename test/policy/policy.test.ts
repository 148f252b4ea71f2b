import assert from 'node:assert/strict'
import {writeFileSync, renameSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {compileGlob, GlobError} from '../../src/policy/glob.js'
import {parsePolicy} from '../../src/policy/parse-policy.js'
import {missingScopes, PolicyError} from '../../src/policy/policy.js'
import {loadPolicyFile} from '../../src/policy/policy-file.js'
import {GatehouseError} from '../../src/errors.js'
import {memoryLogger} from '../../src/log.js'
import {tempDir} from '../helpers/tmp.js'

const CONTRACT_EXAMPLE = `default: mcp:tools            # scope(s) needed for anything no rule matches
tools:
  "read_*": memories:read
  "create_*": [memories:write]
  "delete_*": memories:admin
resources:
  "file:///private/*": files:private
prompts:
  "*": prompts:use
`

test('globs: *, ?, classes, escapes; bad ones refused', () => {
  assert.ok(compileGlob('read_*').test('read_graph'))
  assert.ok(!compileGlob('read_*').test('xread_graph'))
  assert.ok(compileGlob('file:///private/*').test('file:///private/a/b.txt'))
  assert.ok(compileGlob('v?').test('v1') && !compileGlob('v?').test('v12'))
  assert.ok(compileGlob('[a-c]x').test('bx') && !compileGlob('[!a-c]x').test('bx'))
  assert.ok(compileGlob('a\\*').test('a*') && !compileGlob('a\\*').test('ab'))
  assert.ok(compileGlob('a.b').test('a.b') && !compileGlob('a.b').test('axb'), 'dots are literal')
  for (const bad of ['', '[abc', 'a]', '[z-a]', 'trailing\\', '[]']) assert.throws(() => compileGlob(bad), GlobError, bad)
})

test('the CONTRACT.md example: first matching rule in file order wins, default for the rest', () => {
  const p = parsePolicy(CONTRACT_EXAMPLE)
  assert.deepEqual(p.required('tools', 'read_graph'), ['memories:read'])
  assert.deepEqual(p.required('tools', 'create_entities'), ['memories:write'])
  assert.deepEqual(p.required('tools', 'delete_entities'), ['memories:admin'])
  assert.deepEqual(p.required('tools', 'search_nodes'), ['mcp:tools'])
  assert.deepEqual(p.required('resources', 'file:///private/x'), ['files:private'])
  assert.deepEqual(p.required('resources', 'file:///public/x'), ['mcp:tools'])
  assert.deepEqual(p.required('prompts', 'anything'), ['prompts:use'])
  assert.deepEqual(p.scopes().sort(), ['files:private', 'mcp:tools', 'memories:admin', 'memories:read', 'memories:write', 'prompts:use'])
  const order = parsePolicy('tools:\n  "read_secret": admin\n  "read_*": read\n')
  assert.deepEqual(order.required('tools', 'read_secret'), ['admin'])
  assert.deepEqual(order.required('tools', 'read_other'), ['read'])
  assert.deepEqual(order.required('tools', 'other'), [], 'no default: nothing needed')
  assert.deepEqual(missingScopes(['a', 'b'], ['b', 'c']), ['a'])
})

test('JSON policies work too', () => {
  const p = parsePolicy(JSON.stringify({default: ['mcp'], tools: {'delete_*': ['admin', 'write']}}))
  assert.deepEqual(p.required('tools', 'delete_all'), ['admin', 'write'])
  assert.deepEqual(p.required('tools', 'x'), ['mcp'])
})

test('broken policies are refused with the line and the reason', () => {
  const cases: Array<[string, number | undefined, RegExp]> = [
    ['default: a\ntools:\n  "x": b\nextra: 1\n', 4, /unknown field "extra"/],
    ['tools:\n  "[abc": x\n', 2, /invalid pattern "\[abc": unclosed \[/],
    ['tools:\n  "x": "bad\\"scope"\n', 2, /invalid scope/],
    ['tools:\n  "x": 42\n', 2, /must be a string/],
    ['tools: [a, b]\n', 1, /must map patterns to scopes/],
    ['tools:\n  "x": a\n  "x": b\n', 3, /unique/],
    ['tools:\n  x: [a\n', undefined, /./],
    ['- just\n- a list\n', 1, /must be a mapping/],
  ]
  for (const [text, line, reason] of cases) {
    assert.throws(
      () => parsePolicy(text),
      (e: unknown) => e instanceof PolicyError && reason.test(e.reason) && (line === undefined || e.line === line),
      text,
    )
  }
})

test('the policy file reloads on change and keeps the last good one when the new one is broken', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'policy.yaml')
  writeFileSync(file, 'tools:\n  "x": one\n')
  const logger = memoryLogger()
  const source = loadPolicyFile(file, {logger, debounceMs: 10})
  // The watcher does not hold the process open (a daemon has its server for that); the test does.
  const keepAlive = setInterval(() => {}, 1000)
  t.after(() => {
    source.close()
    clearInterval(keepAlive)
  })
  assert.deepEqual(source.current().required('tools', 'x'), ['one'])

  const changed = () => new Promise<void>((resolve) => source.onChange(() => resolve()))
  let next = changed()
  writeFileSync(join(dir, 'tmp.yaml'), 'tools:\n  "x": two\n')
  renameSync(join(dir, 'tmp.yaml'), file) // how editors save
  await next
  assert.deepEqual(source.current().required('tools', 'x'), ['two'])

  writeFileSync(file, 'tools:\n  "[": broken\n')
  // Wait for the error to be logged: nothing else signals a refused reload.
  while (!logger.lines.some((l) => l.level === 'error')) await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(source.current().required('tools', 'x'), ['two'], 'last good policy stays')
  assert.match(String(logger.lines.find((l) => l.level === 'error')!.fields.error), /line 2: invalid pattern/)

  next = changed()
  writeFileSync(file, 'tools:\n  "x": three\n')
  await next
  assert.deepEqual(source.current().required('tools', 'x'), ['three'])
})

test('a broken policy file stops the start with a CONFIG error naming file, line and reason', (t) => {
  const file = join(tempDir(t), 'p.yaml')
  writeFileSync(file, 'tool:\n  x: y\n')
  assert.throws(() => loadPolicyFile(file, {logger: memoryLogger()}), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFIG' && /p\.yaml: line 1: unknown field "tool"/.test(e.message))
  assert.throws(() => loadPolicyFile(file + '.missing', {logger: memoryLogger()}), /no such file/)
})
