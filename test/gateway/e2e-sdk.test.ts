/**
 * End to end with the official MCP SDK client over real HTTP, against real child processes:
 * tools, progress, sampling/elicitation/roots round trips, cancellation, list_changed and
 * resource subscriptions, the token never reaching the child.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import {isAlive, startHarness, textOf, until} from '../helpers/gateway.ts'

test('lists and calls tools, with progress, through one client child', async (t) => {
  const h = await startHarness(t)
  const client = await h.connect('alice')
  const {tools} = await client.listTools()
  assert.ok(tools.some((tool) => tool.name === 'echo'))
  assert.equal(textOf(await client.callTool({name: 'echo', arguments: {text: 'hello'}})), 'hello')

  const progress: number[] = []
  const result = await client.callTool({name: 'slow', arguments: {steps: 3}}, undefined, {
    onprogress: (p) => progress.push(p.progress),
  })
  assert.equal(textOf(result), 'done 3')
  assert.deepEqual(progress, [1, 2, 3])
  assert.deepEqual(h.gateway.stats(), {sessions: 1, children: 1})
})

test('the child gets a clean environment describing the client, never the token', async (t) => {
  const previous = process.env.SECRET_OF_THE_DAEMON
  process.env.SECRET_OF_THE_DAEMON = 'do-not-leak'
  t.after(() => {
    if (previous === undefined) delete process.env.SECRET_OF_THE_DAEMON
    else process.env.SECRET_OF_THE_DAEMON = previous
  })
  const h = await startHarness(t, {env: {EXTRA: 'passed'}})
  const token = await h.token('bob', 'mcp tools:read')
  const client = await h.connect('bob', {token})
  const {env} = JSON.parse(textOf(await client.callTool({name: 'whoami', arguments: {}}))) as {env: Record<string, string>}
  assert.equal(env.GATEHOUSE_CLIENT_ID, 'bob')
  // GATEHOUSE_SCOPES is the client's registered scopes, never a token's (issue 11, item 28); this
  // harness's verifier does not know them, so the variable is left out rather than guessed.
  // test/security/policy-bypass.test.ts checks it against the real daemon.
  assert.equal(env.GATEHOUSE_SCOPES, undefined)
  assert.equal(env.EXTRA, 'passed')
  assert.equal(env.SECRET_OF_THE_DAEMON, undefined)
  assert.ok(!JSON.stringify(env).includes(token))
  for (const key of Object.keys(env)) {
    assert.ok(['PATH', 'HOME', 'LANG', 'TZ', 'EXTRA', 'GATEHOUSE_CLIENT_ID', 'GATEHOUSE_SCOPES'].includes(key) || key.startsWith('LC_'), key)
  }
})

test('sampling, elicitation and roots requests reach the client and their answers the child', async (t) => {
  const h = await startHarness(t)
  const client = await h.connect('carol', {capabilities: {sampling: {}, elicitation: {form: {}}, roots: {listChanged: true}}})
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: 'assistant',
    model: 'test-model',
    content: {type: 'text', text: `re: ${(req.params.messages[0]!.content as {text: string}).text}`},
  }))
  client.setRequestHandler(ElicitRequestSchema, async () => ({action: 'accept', content: {answer: '42'}}))
  client.setRequestHandler(ListRootsRequestSchema, async () => ({roots: [{uri: 'file:///carol'}]}))
  assert.equal(textOf(await client.callTool({name: 'sample', arguments: {prompt: 'hi'}})), 'sampled: re: hi')
  assert.equal(textOf(await client.callTool({name: 'elicit', arguments: {message: 'q?'}})), 'elicited: accept {"answer":"42"}')
  assert.equal(textOf(await client.callTool({name: 'roots', arguments: {}})), 'roots: file:///carol')
})

test('a client that did not declare sampling never gets the request; the child gets an error', async (t) => {
  const h = await startHarness(t)
  const client = await h.connect('dave')
  const result = await client.callTool({name: 'sample', arguments: {prompt: 'hi'}})
  assert.equal(result.isError, true)
  assert.match(textOf(result), /sampling capability/)
})

test('cancellation reaches the child and the client gets no answer', async (t) => {
  const h = await startHarness(t)
  const client = await h.connect('erin')
  const controller = new AbortController()
  let started!: () => void
  const running = new Promise<void>((resolve) => (started = resolve))
  // The hang tool reports progress 0 once it runs, so we cancel a request the child really has.
  const call = client.callTool({name: 'hang', arguments: {}}, undefined, {signal: controller.signal, onprogress: () => started()})
  await running
  controller.abort('user cancelled')
  await assert.rejects(call, /cancelled|abort/i)
  // The cancellation is its own POST; ask the child until it has seen it (each try a round trip).
  let seen = '0'
  for (let i = 0; i < 100 && seen !== '1'; i++) seen = textOf(await client.callTool({name: 'cancelled_count', arguments: {}}))
  assert.equal(seen, '1')
  assert.equal(h.gateway.stats().sessions, 1)
})

test('list_changed notifications and resource updates reach the sessions that want them', async (t) => {
  const h = await startHarness(t)
  const a = await h.connect('frank')
  const b = await h.connect('frank')
  const changed = {a: 0, b: 0}
  a.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changed.a++)
  b.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changed.b++)
  const updated = {a: 0, b: 0}
  a.setNotificationHandler(ResourceUpdatedNotificationSchema, async () => void updated.a++)
  b.setNotificationHandler(ResourceUpdatedNotificationSchema, async () => void updated.b++)
  // Both sessions of one client share one child, and both hear that its tools changed.
  await a.callTool({name: 'add_tool', arguments: {name: 'fresh'}})
  await until(() => changed.a === 1 && changed.b === 1, 'list_changed fan-out')
  assert.equal(textOf(await b.callTool({name: 'fresh', arguments: {}})), 'I am fresh')
  // Only the subscribed session hears of the update.
  await a.subscribeResource({uri: 'test://counter'})
  await b.callTool({name: 'bump', arguments: {}})
  await until(() => updated.a === 1, 'resource update')
  assert.equal(updated.b, 0)
  // b subscribing does not disturb a's subscription; a unsubscribing keeps b's.
  await b.subscribeResource({uri: 'test://counter'})
  await a.unsubscribeResource({uri: 'test://counter'})
  await a.callTool({name: 'bump', arguments: {}})
  await until(() => updated.b === 1, 'resource update to b')
  assert.equal(updated.a, 1)
})

test('close stops every child and leaves no process behind', async (t) => {
  const h = await startHarness(t)
  await h.connect('gina')
  await h.connect('hank')
  const pids = h.gateway.childPids()
  assert.equal(pids.length, 2)
  assert.ok(pids.every(isAlive))
  await h.close()
  assert.ok(pids.every((pid) => !isAlive(pid)))
  assert.deepEqual(h.gateway.stats(), {sessions: 0, children: 0})
})
