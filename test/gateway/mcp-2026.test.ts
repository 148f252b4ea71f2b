/**
 * MCP 2026-07-28 at /mcp beside the 2025 revisions (issue 13): the official v2 SDK client
 * pinned to 2026-07-28 and in auto mode, and the v1 client, on one gateway at once, against
 * real children (the bundled memory server, the test server, a v2 SDK server).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {Client as V1Client} from '@modelcontextprotocol/sdk/client/index.js'
import {connectV2} from '../helpers/mcp-v2.js'
import {fixture, startHarness, textOf, until} from '../helpers/gateway.js'

const V = '2026-07-28'
const envelope = (extra: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientInfo': {name: 'raw', version: '1'},
  'io.modelcontextprotocol/clientCapabilities': {},
  ...extra,
})

/** One raw 2026 POST: the headers a conforming client sends, overridable. */
async function post(url: URL, token: string, body: Record<string, unknown>, headers: Record<string, string | undefined> = {}) {
  const params = body.params as Record<string, unknown> | undefined
  const h: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': V,
    'mcp-method': String(body.method),
  }
  if (typeof params?.name === 'string') h['mcp-name'] = params.name
  if (typeof params?.uri === 'string') h['mcp-name'] = params.uri
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete h[k]
    else h[k] = v
  }
  const res = await fetch(url, {method: 'POST', headers: h, body: JSON.stringify({jsonrpc: '2.0', ...body})})
  const text = await res.text()
  const data = text.startsWith('data: ') || res.headers.get('content-type')?.startsWith('text/event-stream') ? text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Record<string, any>).at(-1) : text ? (JSON.parse(text) as Record<string, any>) : undefined
  return {status: res.status, body: data as Record<string, any> | undefined, headers: res.headers}
}

test('2026 pinned, 2026 auto and a v1 client on one gateway: the bundled memory server, each client its own memory', async (t) => {
  const h = await startHarness(t, {command: undefined})
  const pinned = await connectV2(t, h.url, await h.token('alice'), {mode: 'pin'})
  const auto = await connectV2(t, h.url, await h.token('bob'), {mode: 'auto'})
  const v1 = await h.connect('carol')
  assert.equal(pinned.getNegotiatedProtocolVersion(), V)
  assert.equal(auto.getNegotiatedProtocolVersion(), V, 'auto mode finds the modern era')
  for (const c of [pinned, auto, v1 as unknown as typeof pinned]) {
    const tools = await c.listTools()
    assert.ok(tools.tools.some((x) => x.name === 'create_entities'))
  }
  const entity = (name: string) => ({name, entityType: 'person', observations: [`${name} was here`]})
  await pinned.callTool({name: 'create_entities', arguments: {entities: [entity('AliceThing')]}})
  await auto.callTool({name: 'create_entities', arguments: {entities: [entity('BobThing')]}})
  await v1.callTool({name: 'create_entities', arguments: {entities: [entity('CarolThing')]}})
  const graph = async (c: {callTool: typeof pinned.callTool}) => textOf(await c.callTool({name: 'read_graph', arguments: {}}))
  const [a, b, c] = [await graph(pinned), await graph(auto), await graph(v1 as unknown as typeof pinned)]
  assert.match(a, /AliceThing/)
  assert.doesNotMatch(a, /BobThing|CarolThing/)
  assert.match(b, /BobThing/)
  assert.doesNotMatch(b, /AliceThing|CarolThing/)
  assert.match(c, /CarolThing/)
  assert.doesNotMatch(c, /AliceThing|BobThing/)
  // No session id is minted for 2026 requests (2026-07-28 transports §Backward Compatibility).
  const raw = await post(h.url, await h.token('alice'), {id: 1, method: 'tools/list', params: {_meta: envelope()}})
  assert.equal(raw.status, 200)
  assert.equal(raw.headers.get('mcp-session-id'), null)
  // Results carry resultType, cache hints (private: lists differ per client) and serverInfo.
  assert.equal(raw.body!.result.resultType, 'complete')
  assert.equal(raw.body!.result.cacheScope, 'private')
  assert.equal(typeof raw.body!.result.ttlMs, 'number')
  assert.equal(typeof raw.body!.result._meta['io.modelcontextprotocol/serverInfo'].name, 'string')
  assert.equal(h.gateway.stats().sessions, 1, 'only the v1 client has a session')
})

test('server/discover advertises the modern versions and the child; unknown versions get -32022 listing both eras', async (t) => {
  const h = await startHarness(t)
  const token = await h.token('alice')
  const d = await post(h.url, token, {id: 'd', method: 'server/discover', params: {_meta: envelope()}})
  assert.equal(d.status, 200)
  assert.deepEqual(d.body!.result.supportedVersions, [V])
  assert.equal(d.body!.result._meta['io.modelcontextprotocol/serverInfo'].name, 'gatehouse-test-server')
  assert.ok(d.body!.result.capabilities.tools)
  const u = await post(h.url, token, {id: 2, method: 'tools/list', params: {_meta: envelope({'io.modelcontextprotocol/protocolVersion': '2099-01-01'})}}, {'mcp-protocol-version': '2099-01-01'})
  assert.equal(u.status, 400)
  assert.equal(u.body!.error.code, -32022)
  assert.equal(u.body!.id, 2)
  assert.ok(u.body!.error.data.supported.includes(V) && u.body!.error.data.supported.includes('2025-11-25'))
  // A method 2026-07-28 removed: 404 with -32601 (transports §Protocol Version Header).
  const ping = await post(h.url, token, {id: 3, method: 'ping', params: {_meta: envelope()}})
  assert.equal(ping.status, 404)
  assert.equal(ping.body!.error.code, -32601)
})

test('header mismatches and malformed _meta: 400 with the spec error, never a 5xx, and nothing reaches the child', async (t) => {
  const h = await startHarness(t)
  const token = await h.token('alice')
  const call = (meta: unknown, extra: Record<string, unknown> = {}) => ({id: 7, method: 'tools/call', params: {name: 'echo', arguments: {text: 'x'}, _meta: meta, ...extra}})
  // transports-streamable-http §Server Validation: -32020 HeaderMismatch.
  const mismatches: Array<[string, Record<string, unknown>, Record<string, string | undefined>]> = [
    ['Mcp-Method missing', call(envelope()), {'mcp-method': undefined}],
    ['Mcp-Method differs', call(envelope()), {'mcp-method': 'tools/list'}],
    ['Mcp-Name missing', call(envelope()), {'mcp-name': undefined}],
    ['Mcp-Name differs', call(envelope()), {'mcp-name': 'whoami'}],
    ['Mcp-Name Base64 of another name', call(envelope()), {'mcp-name': `=?base64?${Buffer.from('whoami').toString('base64')}?=`}],
    ['Mcp-Name bad Base64', call(envelope()), {'mcp-name': '=?base64?@@@?='}],
    ['Mcp-Name sentinel of invalid UTF-8', call(envelope()), {'mcp-name': `=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`}],
    ['MCP-Protocol-Version missing', call(envelope()), {'mcp-protocol-version': undefined}],
    ['MCP-Protocol-Version differs from _meta', call(envelope()), {'mcp-protocol-version': '2025-11-25'}],
  ]
  for (const [why, body, headers] of mismatches) {
    const r = await post(h.url, token, body, headers)
    assert.equal(r.status, 400, why)
    assert.equal(r.body!.error.code, -32020, why)
  }
  // Base64 sentinel of the right name is accepted (§Value Encoding).
  const ok = await post(h.url, token, call(envelope()), {'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=`})
  assert.equal(ok.status, 200)
  assert.equal(textOf(ok.body!.result), 'x')
  // basic-index §_meta: a missing or malformed required field is -32602 with 400.
  const malformed: Array<[string, unknown]> = [
    ['no clientCapabilities', {'io.modelcontextprotocol/protocolVersion': V}],
    ['clientCapabilities not an object', envelope({'io.modelcontextprotocol/clientCapabilities': 'all'})],
    ['clientInfo without version', envelope({'io.modelcontextprotocol/clientInfo': {name: 'x'}})],
    ['unknown logLevel', envelope({'io.modelcontextprotocol/logLevel': 'loud'})],
    ['protocolVersion a number', envelope({'io.modelcontextprotocol/protocolVersion': 2026})],
    ['_meta an array', [1]],
  ]
  for (const [why, meta] of malformed) {
    const r = await post(h.url, token, call(meta))
    assert.equal(r.status, 400, why)
    assert.equal(r.body!.error.code, -32602, why)
  }
  // The policy uses the body: the name checked is the body's, and the headers must agree with it.
  const noMeta = await post(h.url, token, {id: 8, method: 'tools/call', params: {name: 'echo', arguments: {text: 'x'}}})
  assert.equal(noMeta.status, 400)
  // Nothing refused reached the child: the only call it answered is the accepted one.
  const calls = h.logger.lines.filter((l) => l.level === 'warn' && /unknown or finished/.test(l.message))
  assert.equal(calls.length, 0)
  assert.equal(h.logger.lines.filter((e) => e.level === 'error').length, 0)
})

test('a child that elicits mid-call: the v2 client answers through input_required and the call completes', async (t) => {
  const h = await startHarness(t)
  const client = await connectV2(t, h.url, await h.token('alice'), {capabilities: {elicitation: {form: {}}}})
  const asked: string[] = []
  client.setRequestHandler('elicitation/create', async (req: {params: {message: string}}) => {
    asked.push(req.params.message)
    return {action: 'accept', content: {answer: 'forty-two'}}
  })
  const r = await client.callTool({name: 'elicit', arguments: {message: 'what is the answer?'}})
  assert.deepEqual(asked, ['what is the answer?'])
  assert.equal(textOf(r), 'elicited: accept {"answer":"forty-two"}')
  // A client that did not declare elicitation is not asked: the child gets an error (basic-patterns-mrtr §Server Requirements, 7).
  const plain = await connectV2(t, h.url, await h.token('bob'))
  const refused = await plain.callTool({name: 'elicit', arguments: {message: 'hello?'}}).catch((e: Error) => e)
  assert.ok(refused instanceof Error || (refused as {isError?: boolean}).isError, 'the call fails without asking')
})

test('a forged, altered, replayed or another client\'s requestState is refused', async (t) => {
  const h = await startHarness(t)
  const alice = await h.token('alice')
  const caps = {'io.modelcontextprotocol/clientCapabilities': {elicitation: {form: {}}}}
  const first = await post(h.url, alice, {id: 1, method: 'tools/call', params: {name: 'elicit', arguments: {message: 'q'}, _meta: envelope(caps)}})
  assert.equal(first.status, 200)
  const ir = first.body!.result
  assert.equal(ir.resultType, 'input_required')
  assert.equal(ir.inputRequests.elicitation.method, 'elicitation/create')
  const state: string = ir.requestState
  const retry = (token: string, requestState: unknown, id: number, name = 'elicit') =>
    post(h.url, token, {id, method: 'tools/call', params: {name, arguments: {message: 'q'}, inputResponses: {elicitation: {action: 'accept', content: {answer: 'yes'}}}, requestState, _meta: envelope(caps)}})
  const [data, mac] = state.split('.')
  const payload = JSON.parse(Buffer.from(data!, 'base64url').toString()) as Record<string, unknown>
  const forged = `${Buffer.from(JSON.stringify({...payload, c: 'bob'})).toString('base64url')}.${mac}`
  for (const [why, token, value, name] of [
    ['forged payload', alice, forged, 'elicit'],
    ['altered MAC', alice, `${data}.${Buffer.alloc(32).toString('base64url')}`, 'elicit'],
    ['garbage', alice, 'not-a-state', 'elicit'],
    ["another client's", await h.token('bob'), state, 'elicit'],
    ['on another tool', alice, state, 'echo'],
  ] as const) {
    const r = await retry(token, value, 2, name)
    assert.equal(r.status, 400, why)
    assert.equal(r.body!.error.code, -32602, why)
  }
  const done = await retry(alice, state, 3)
  assert.equal(done.status, 200)
  assert.equal(textOf(done.body!.result), 'elicited: accept {"answer":"yes"}')
  assert.equal(done.body!.result.resultType, 'complete')
  const replay = await retry(alice, state, 4)
  assert.equal(replay.status, 400, 'a requestState is used once')
  assert.equal(replay.body!.error.code, -32602)
})

test('list-changed notifications reach only a listener that opted in, tagged with its subscription id', async (t) => {
  const h = await startHarness(t)
  const token = await h.token('alice')
  const client = await connectV2(t, h.url, token)
  const other = await connectV2(t, h.url, token)
  let changed = 0
  let otherChanged = 0
  client.setNotificationHandler('notifications/tools/list_changed', () => void changed++)
  other.setNotificationHandler('notifications/tools/list_changed', () => void otherChanged++)
  const sub = await client.listen({toolsListChanged: true})
  assert.equal(sub.honoredFilter.toolsListChanged, true)
  const quiet = await other.listen({promptsListChanged: true})
  await client.callTool({name: 'add_tool', arguments: {name: 'fresh_tool'}})
  await until(() => changed > 0, 'the opted-in listener gets tools/list_changed')
  // The other listener shares the child but did not opt into tool changes (§Notification Filter).
  await other.callTool({name: 'add_tool', arguments: {name: 'fresh_tool_2'}})
  await until(() => changed > 1, 'the second change reaches the opted-in listener')
  assert.equal(otherChanged, 0)
  // (The v2 client routes listen notifications by io.modelcontextprotocol/subscriptionId: their arrival shows the tag.)
  await sub.close()
  await quiet.close()
})

test('closing a 2026 response stream cancels the request at the child', async (t) => {
  const h = await startHarness(t)
  const token = await h.token('alice')
  const controller = new AbortController()
  const pending = fetch(h.url, {
    method: 'POST',
    signal: controller.signal,
    headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'hang'},
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/call', params: {name: 'hang', arguments: {}, _meta: envelope({progressToken: 'p'})}}),
  })
  const res = await pending
  const reader = res.body!.getReader()
  await reader.read() // the progress notification: the child is inside the call
  controller.abort()
  const count = async () => {
    const r = await post(h.url, token, {id: 9, method: 'tools/call', params: {name: 'cancelled_count', arguments: {}, _meta: envelope()}})
    return Number(textOf(r.body!.result))
  }
  await until(async () => (await count()) === 1, 'the child saw notifications/cancelled')
})

test('a v2 SDK stdio child is reached by both eras', async (t) => {
  const h = await startHarness(t, {command: {command: process.execPath, args: [fixture('v2-server.mjs')]}})
  const modern = await connectV2(t, h.url, await h.token('alice'))
  const v1: V1Client = await h.connect('alice')
  assert.equal(textOf(await modern.callTool({name: 'v2_echo', arguments: {text: 'modern'}})), 'v2: modern')
  assert.equal(textOf(await v1.callTool({name: 'v2_echo', arguments: {text: 'legacy'}})), 'v2: legacy')
  const [a, b] = [textOf(await modern.callTool({name: 'v2_whoami', arguments: {}})), textOf(await v1.callTool({name: 'v2_whoami', arguments: {}}))]
  assert.equal(a, b, 'one child per client serves both eras')
})
