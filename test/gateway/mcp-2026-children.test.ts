/**
 * Children of both eras (issue 13, item 3). The gateway probes each child with `server/discover`
 * (MCP 2026-07-28 transports-stdio §Backward Compatibility): a child that answers with a
 * DiscoverResult is spoken to in 2026-07-28 (per-request _meta, no initialize), one that answers
 * with any other error or stays silent (bounded) in 2025, and a modern child of another
 * revision is refused (no fallback to initialize). Real children: the v2 SDK server
 * (test/fixtures/v2-server.mjs), the v1 SDK test server, and a raw misbehaving one.
 */
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {ElicitRequestSchema, ToolListChangedNotificationSchema} from '@modelcontextprotocol/sdk/types.js'
import {connectV2} from '../helpers/mcp-v2.js'
import {fixture, startHarness, testServerCommand, textOf, until} from '../helpers/gateway.js'
import type {Isolation} from '../../src/gateway/gateway.js'

const V = '2026-07-28'
const v2Child = {command: process.execPath, args: [fixture('v2-server.mjs')]}
const misbehaving = (modes: string) => ({command: process.execPath, args: [fixture('misbehaving-server.mjs'), '--modes', modes, '--state', mkdtempSync(join(tmpdir(), 'gatehouse-mis-'))]})
const envelope = (extra: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientInfo': {name: 'raw', version: '1'},
  'io.modelcontextprotocol/clientCapabilities': {},
  ...extra,
})

/** One raw 2026 POST; every SSE message of the answer, the last being the response. */
async function post(url: URL, token: string, body: Record<string, any>) {
  const params = body.params as Record<string, unknown> | undefined
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': V,
    'mcp-method': String(body.method),
  }
  if (typeof params?.name === 'string') headers['mcp-name'] = params.name
  const res = await fetch(url, {method: 'POST', headers, body: JSON.stringify({jsonrpc: '2.0', ...body})})
  const text = await res.text()
  const messages = res.headers.get('content-type')?.startsWith('text/event-stream')
    ? text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Record<string, any>)
    : text
      ? [JSON.parse(text) as Record<string, any>]
      : []
  return {status: res.status, messages, body: messages.at(-1)}
}

const childSpeaks2026 = (h: {logger: {lines: Array<{message: string}>}}) => h.logger.lines.filter((l) => l.message === 'child speaks 2026-07-28').length

for (const isolation of ['client', 'session', 'shared'] as Isolation[]) {
  test(`a v2 SDK child is spoken to in 2026-07-28 and serves a 2026 and a 2025 caller on one daemon (isolation ${isolation})`, async (t) => {
    const h = await startHarness(t, {command: v2Child, isolation})
    const modern = await connectV2(t, h.url, await h.token('alice'), {capabilities: {elicitation: {form: {}}}})
    const legacy = await h.connect('alice', {capabilities: {elicitation: {}}})
    assert.equal(textOf(await modern.callTool({name: 'v2_echo', arguments: {text: 'modern'}})), 'v2: modern')
    assert.equal(textOf(await legacy.callTool({name: 'v2_echo', arguments: {text: 'legacy'}})), 'v2: legacy')
    // The probe found a modern child (transports-stdio §Backward Compatibility): no initialize was sent.
    assert.ok(childSpeaks2026(h) >= 1, 'the child was probed as 2026-07-28')

    // Multi round-trip, natively: the child's InputRequiredResult reaches the 2026 client, whose
    // retry brings the child its own requestState back (basic-patterns-mrtr).
    const asked: string[] = []
    modern.setRequestHandler('elicitation/create', async (req: {params: {message: string}}) => {
      asked.push(req.params.message)
      return {action: 'accept', content: {ok: true}}
    })
    assert.equal(textOf(await modern.callTool({name: 'v2_confirm', arguments: {what: 'm'}})), 'confirmed m: {"ok":true} (state state-of:m)')
    // The same for the 2025 session: the child's question arrives as elicitation/create, and the gateway retries.
    legacy.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message)
      return {action: 'accept', content: {ok: true}}
    })
    assert.equal(textOf(await legacy.callTool({name: 'v2_confirm', arguments: {what: 'l'}})), 'confirmed l: {"ok":true} (state state-of:l)')
    assert.deepEqual(asked, ['Confirm m?', 'Confirm l?'])
    // A 2025 client that did not declare elicitation is not asked: the child sees its capabilities
    // in _meta and refuses (MissingRequiredClientCapability, -32021), or the gateway does.
    const plain = await h.connect('alice')
    const refused = await plain.callTool({name: 'v2_confirm', arguments: {what: 'p'}}).then(
      () => undefined,
      (e: Error) => e.message,
    )
    assert.match(String(refused), /-32021|elicitation capability/)
  })
}

test('a v2 child\'s requestState reaches the caller sealed: bound to its client and request, refused otherwise', async (t) => {
  const h = await startHarness(t, {command: v2Child, isolation: 'shared'})
  const alice = await h.token('alice')
  const caps = {'io.modelcontextprotocol/clientCapabilities': {elicitation: {form: {}}}}
  const first = await post(h.url, alice, {id: 1, method: 'tools/call', params: {name: 'v2_confirm', arguments: {what: 's'}, _meta: envelope(caps)}})
  const ir = first.body!.result
  assert.equal(ir.resultType, 'input_required')
  assert.equal(ir.inputRequests.confirm.method, 'elicitation/create')
  assert.notEqual(ir.requestState, 'state-of:s', 'the child\'s own state is not handed out bare')
  const retry = (token: string, requestState: unknown, id: number) =>
    post(h.url, token, {id, method: 'tools/call', params: {name: 'v2_confirm', arguments: {what: 's'}, inputResponses: {confirm: {action: 'accept', content: {ok: true}}}, requestState, _meta: envelope(caps)}})
  // Another client on the same (shared) child, and a bare child state, are refused (mrtr §Server Requirements, 4).
  for (const [why, token, state] of [
    ["another client's", await h.token('bob'), ir.requestState],
    ['the bare child state', alice, 'state-of:s'],
  ] as const) {
    const r = await retry(token, state, 2)
    assert.equal(r.status, 400, why)
    assert.equal(r.body!.error.code, -32602, why)
  }
  const done = await retry(alice, ir.requestState, 3)
  assert.equal(textOf(done.body!.result), 'confirmed s: {"ok":true} (state state-of:s)')
})

test('per-request log level: notifications/message only for a 2026 request that asked, at its level', async (t) => {
  // server-utilities-logging §Per-request log level: "The server MUST NOT emit notifications/message
  // for a request that does not include this field"; at or above the requested level otherwise.
  for (const command of [v2Child, testServerCommand()]) {
    const h = await startHarness(t, {command})
    const token = await h.token('alice')
    const [tool, args] = command === v2Child ? ['v2_log', {}] : ['flood', {count: 3}]
    const logs = (r: Awaited<ReturnType<typeof post>>) => r.messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.level as string)
    const none = await post(h.url, token, {id: 1, method: 'tools/call', params: {name: tool, arguments: args, _meta: envelope()}})
    assert.equal(none.status, 200)
    assert.deepEqual(logs(none), [], `${tool}: no logLevel, no log`)
    const errorOnly = await post(h.url, token, {id: 2, method: 'tools/call', params: {name: tool, arguments: args, _meta: envelope({'io.modelcontextprotocol/logLevel': 'error'})}})
    const debug = await post(h.url, token, {id: 3, method: 'tools/call', params: {name: tool, arguments: args, _meta: envelope({'io.modelcontextprotocol/logLevel': 'debug'})}})
    if (command === v2Child) {
      assert.deepEqual(logs(errorOnly), ['error'], 'v2_log: only what is at or above error')
      assert.deepEqual(logs(debug), ['debug', 'error'])
    } else {
      assert.deepEqual(logs(errorOnly), [], 'flood logs at info: below error')
      assert.deepEqual(logs(debug), ['info', 'info', 'info'])
    }
    assert.equal(debug.body!.result.resultType, 'complete')
  }
})

test('a v2 child\'s tools/list_changed reaches a 2025 session and an opted-in 2026 listener (the gateway listens on the child)', async (t) => {
  const h = await startHarness(t, {command: v2Child})
  const token = await h.token('alice')
  const listener = await connectV2(t, h.url, token)
  const legacy = await h.connect('alice')
  let heard = 0
  let legacyHeard = 0
  listener.setNotificationHandler('notifications/tools/list_changed', () => void heard++)
  legacy.setNotificationHandler(ToolListChangedNotificationSchema, () => void legacyHeard++)
  const sub = await listener.listen({toolsListChanged: true})
  assert.equal(sub.honoredFilter.toolsListChanged, true)
  await legacy.callTool({name: 'v2_add_tool', arguments: {}})
  await until(() => heard > 0 && legacyHeard > 0, 'both callers heard tools/list_changed')
  const tools = await listener.listTools()
  assert.ok(tools.tools.some((x) => x.name === 'v2_added_1'))
  await sub.close()
})

test('a 2025-only child still works; one silent on server/discover is spoken to in 2025 after the bounded probe', async (t) => {
  // transports-stdio §Backward Compatibility: "any other error, or does not respond within a
  // reasonable timeout: the server is legacy. Fall back to the initialize handshake."
  for (const [what, command] of [
    ['the v1 SDK test server (-32601 on discover)', testServerCommand()],
    ['a child silent on discover', misbehaving('discover-silent')],
    ['a child that answers discover after the deadline', misbehaving('discover-late')],
  ] as const) {
    const h = await startHarness(t, {command, limits: {discoverTimeoutMs: 300, sweepIntervalMs: 50}})
    const modern = await connectV2(t, h.url, await h.token('alice'))
    const legacy = await h.connect('alice')
    assert.equal(textOf(await modern.callTool({name: 'echo', arguments: {text: 'a'}})), 'a', what)
    assert.equal(textOf(await legacy.callTool({name: 'echo', arguments: {text: 'b'}})), 'b', what)
    assert.equal(childSpeaks2026(h), 0, `${what}: spoken to in 2025`)
    if (what.includes('after the deadline')) {
      // The late answer is expected of a slow 2025 server: info lines, never a warning.
      const deadline = Date.now() + 10_000
      while (!h.logger.lines.some((l) => /answered server\/discover after its deadline/.test(l.message)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      assert.ok(h.logger.lines.some((l) => l.level === 'info' && /answered server\/discover after its deadline/.test(l.message)), `${what}: the late answer is noted`)
    }
    if (!what.includes('v1 SDK')) {
      assert.ok(h.logger.lines.some((l) => l.level === 'info' && /did not answer server\/discover in time/.test(l.message)), `${what}: the probe's timeout is noted`)
    }
    const warnings = h.logger.lines.filter((l) => l.level === 'warn')
    assert.deepEqual(warnings.map((l) => l.message), [], `${what}: a 2025 server's silence on the probe is not a fault`)
  }
})

test('a modern child of another revision is refused, not initialized (no fallback)', async (t) => {
  const h = await startHarness(t, {command: misbehaving('modern-elsewhere'), limits: {killGraceMs: 200}})
  const r = await post(h.url, await h.token('alice'), {id: 1, method: 'tools/list', params: {_meta: envelope()}})
  assert.equal(r.status, 503)
  assert.match(r.body!.error.message, /does not speak 2026-07-28 \(it speaks 2099-01-01\)/)
  assert.equal(h.logger.lines.filter((l) => l.level === 'error').length, 0)
})

test('Mcp-Param-* headers are checked against the tool\'s x-mcp-header declarations: 400 HeaderMismatch on any disagreement', async (t) => {
  // transports-streamable-http §Custom Headers from Tool Parameters and §Server Validation.
  const h = await startHarness(t, {command: v2Child})
  const token = await h.token('alice')
  // The official v2 client mirrors the declared parameters itself: its call goes through.
  const client = await connectV2(t, h.url, token)
  await client.listTools()
  assert.equal(textOf(await client.callTool({name: 'v2_region', arguments: {region: 'Zürich', opts: {count: 3, dry: false}}})), 'region {"region":"Zürich","opts":{"count":3,"dry":false}}')
  const call = (args: Record<string, unknown>, headers: Record<string, string>) =>
    fetch(h.url, {
      method: 'POST',
      headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'v2_region', ...headers},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/call', params: {name: 'v2_region', arguments: args, _meta: envelope()}}),
    }).then(async (r) => ({status: r.status, text: await r.text()}))
  const b64 = (v: string) => `=?base64?${Buffer.from(v).toString('base64')}?=`
  const ok = [
    ['plain value', {region: 'us-west1'}, {'mcp-param-region': 'us-west1'}],
    ['Base64 sentinel, integer and boolean', {region: 'Zürich', opts: {count: -7, dry: true}}, {'mcp-param-region': b64('Zürich'), 'mcp-param-count': '-7', 'mcp-param-dry': 'true'}],
    ['an undeclared Mcp-Param-* is ignored', {region: 'eu'}, {'mcp-param-region': 'eu', 'mcp-param-other': 'anything'}],
  ] as const
  for (const [why, args, headers] of ok) {
    const r = await call(args, headers)
    assert.equal(r.status, 200, `${why}: ${r.text}`)
  }
  const bad = [
    ['missing', {region: 'us-west1'}, {}],
    ['another value', {region: 'us-west1'}, {'mcp-param-region': 'us-east1'}],
    ['undecodable Base64', {region: 'us-west1'}, {'mcp-param-region': '=?base64?***?='}],
    ['sent for an absent parameter', {region: 'eu'}, {'mcp-param-region': 'eu', 'mcp-param-count': '3'}],
    ['integer disagreeing', {region: 'eu', opts: {count: 3}}, {'mcp-param-region': 'eu', 'mcp-param-count': '4'}],
    ['boolean spelled otherwise', {region: 'eu', opts: {dry: true}}, {'mcp-param-region': 'eu', 'mcp-param-dry': 'True'}],
  ] as const
  for (const [why, args, headers] of bad) {
    const r = await call(args, headers)
    assert.equal(r.status, 400, why)
    assert.equal((JSON.parse(r.text) as {error: {code: number}}).error.code, -32020, why)
  }
})
