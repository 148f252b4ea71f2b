/**
 * The Streamable HTTP rules, checked with raw HTTP requests: bearer challenges, Accept and
 * Content-Type, protocol versions (including the 2026-07-28 fallback), session ids and their
 * binding to the client, 202s, batches, GET streams and Last-Event-ID resumption, DELETE,
 * body and session limits, idle expiry.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {manualClock} from '../../src/clock.js'
import {startHarness, type Harness} from '../helpers/gateway.ts'

const ACCEPT_BOTH = 'application/json, text/event-stream'

async function post(h: Harness, body: unknown, headers: Record<string, string> = {}) {
  return fetch(h.url, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

const init = (version = '2025-11-25', id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: {protocolVersion: version, capabilities: {}, clientInfo: {name: 'raw', version: '1'}},
})

async function open(h: Harness, clientId: string, version = '2025-11-25') {
  const auth = `Bearer ${await h.token(clientId)}`
  const res = await post(h, init(version), {authorization: auth})
  assert.equal(res.status, 200)
  const session = res.headers.get('mcp-session-id')!
  const body = (await res.json()) as {result: {protocolVersion: string; serverInfo: {name: string}}}
  const headers = {authorization: auth, 'mcp-session-id': session, 'mcp-protocol-version': version}
  await post(h, {jsonrpc: '2.0', method: 'notifications/initialized'}, headers)
  return {session, headers, result: body.result}
}

test('bearer: missing, malformed, wrongly signed, wrong audience and expired tokens get 401 challenges', async (t) => {
  const h = await startHarness(t)
  const metadata = `resource_metadata="${h.url.origin}/.well-known/oauth-protected-resource/mcp"`
  let res = await post(h, init())
  assert.equal(res.status, 401)
  assert.equal(res.headers.get('www-authenticate'), `Bearer ${metadata}`)
  const refused = async (authorization: string) => {
    const r = await post(h, init(), {authorization})
    assert.equal(r.status, 401)
    const challenge = r.headers.get('www-authenticate')!
    assert.ok(challenge.startsWith(`Bearer ${metadata}, error="invalid_token", error_description="`), challenge)
  }
  await refused('Basic abc')
  await refused('Bearer not-a-jwt')
  await refused(`Bearer ${await h.auth.sign('x', {audience: 'http://elsewhere/mcp'})}`)
  await refused(`Bearer ${await h.auth.sign('x', {expiresIn: '-1m'})}`)
  const other = await (await import('../helpers/gateway.ts')).createTestAuth(h.resource)
  await refused(`Bearer ${await other.sign('x')}`)
  // GET and DELETE are gated too.
  res = await fetch(h.url, {headers: {accept: 'text/event-stream'}})
  assert.equal(res.status, 401)
  const meta = await (await fetch(`${h.url.origin}/.well-known/oauth-protected-resource/mcp`)).json()
  assert.deepEqual(meta, {
    resource: h.resource,
    authorization_servers: [h.url.origin],
    scopes_supported: ['mcp'],
    bearer_methods_supported: ['header'],
  })
})

test('Accept, Content-Type, method and body size are checked', async (t) => {
  const h = await startHarness(t, {limits: {maxBodyBytes: 1000}})
  const authorization = `Bearer ${await h.token('alice')}`
  assert.equal((await post(h, init(), {authorization, accept: 'application/json'})).status, 406)
  assert.equal((await post(h, init(), {authorization, 'content-type': 'text/plain'})).status, 415)
  assert.equal((await post(h, '{"jsonrpc": "2.0", "id": 1, "method": "x", "params": "' + 'a'.repeat(2000) + '"}', {authorization})).status, 413)
  assert.equal((await post(h, '{not json', {authorization})).status, 400)
  assert.equal((await fetch(h.url, {method: 'PUT', headers: {authorization}})).status, 405)
  assert.equal((await fetch(h.url, {headers: {authorization, accept: 'application/json'}})).status, 406)
})

test('sessions: assigned at initialize, required after, bound to their client, ended by DELETE', async (t) => {
  const h = await startHarness(t)
  const a = await open(h, 'alice')
  assert.match(a.session, /^[\x21-\x7e]{43,}$/)
  assert.equal(a.result.protocolVersion, '2025-11-25')
  assert.equal(a.result.serverInfo.name, 'gatehouse-test-server')
  const list = {jsonrpc: '2.0', id: 2, method: 'tools/list'}
  let res = await post(h, list, a.headers)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.equal(((await res.json()) as {id: number}).id, 2)
  // No session id: 400. Unknown: 404.
  res = await post(h, list, {authorization: a.headers.authorization})
  assert.equal(res.status, 400)
  res = await post(h, list, {...a.headers, 'mcp-session-id': 'nope'})
  assert.equal(res.status, 404)
  // Another client presenting alice's session id: test/security/sessions.test.ts.
  // Notifications and responses: 202, no body.
  res = await post(h, {jsonrpc: '2.0', method: 'notifications/roots/list_changed'}, a.headers)
  assert.equal(res.status, 202)
  assert.equal(await res.text(), '')
  // DELETE ends it.
  res = await fetch(h.url, {method: 'DELETE', headers: a.headers})
  assert.equal(res.status, 200)
  assert.equal((await post(h, list, a.headers)).status, 404)
})

test('protocol versions: each supported one negotiates, unsupported headers are 400, 2026-07-28 requests are served, unknown versions get -32022 naming both eras', async (t) => {
  const h = await startHarness(t)
  for (const v of ['2025-03-26', '2025-06-18', '2025-11-25']) assert.equal((await open(h, 'alice', v)).result.protocolVersion, v)
  // An initialize asking for an unknown version gets the latest.
  assert.equal((await open(h, 'alice', '2099-01-01')).result.protocolVersion, '2025-11-25')
  const a = await open(h, 'alice')
  let res = await post(h, {jsonrpc: '2.0', id: 3, method: 'tools/list'}, {...a.headers, 'mcp-protocol-version': '1999-01-01'})
  assert.equal(res.status, 400)
  // Absent header: assumed 2025-03-26, accepted.
  const {'mcp-protocol-version': _, ...noVersion} = a.headers
  assert.equal((await post(h, {jsonrpc: '2.0', id: 4, method: 'tools/list'}, noVersion)).status, 200)
  // A modern, stateless request of a version neither era serves: 400 with
  // UnsupportedProtocolVersionError listing both eras (2026-07-28 versioning; issue 13).
  const authorization = `Bearer ${await h.token('modern')}`
  const meta = (v: string) => ({'io.modelcontextprotocol/protocolVersion': v, 'io.modelcontextprotocol/clientInfo': {name: 'm', version: '1'}, 'io.modelcontextprotocol/clientCapabilities': {}})
  res = await post(h, {jsonrpc: '2.0', id: 9, method: 'tools/list', params: {_meta: meta('2099-01-01')}}, {authorization, 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list'})
  assert.equal(res.status, 400)
  assert.deepEqual(await res.json(), {
    jsonrpc: '2.0',
    id: 9,
    error: {
      code: -32022,
      message: 'Unsupported protocol version',
      data: {supported: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'], requested: '2099-01-01'},
    },
  })
  // 2026-07-28 itself is served (issue 13), statelessly: no session id.
  res = await post(h, {jsonrpc: '2.0', id: 10, method: 'tools/list', params: {_meta: meta('2026-07-28')}}, {authorization, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list'})
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('mcp-session-id'), null)
  assert.equal(((await res.json()) as {result: {resultType: string}}).result.resultType, 'complete')
})

test('batches: only in a 2025-03-26 session, answered as an SSE stream', async (t) => {
  const h = await startHarness(t)
  const modern = await open(h, 'alice')
  const batch = [
    {jsonrpc: '2.0', id: 'a', method: 'tools/list'},
    {jsonrpc: '2.0', id: 'b', method: 'tools/call', params: {name: 'echo', arguments: {text: 'in a batch'}}},
  ]
  assert.equal((await post(h, batch, modern.headers)).status, 400)
  const old = await open(h, 'alice', '2025-03-26')
  const res = await post(h, batch, old.headers)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/event-stream')
  const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)))
  assert.deepEqual(events.map((e: {id: string}) => e.id).sort(), ['a', 'b'])
})

test('SSE: progress switches a POST to a stream; a dropped stream resumes with Last-Event-ID on GET', async (t) => {
  const h = await startHarness(t)
  const a = await open(h, 'alice')
  const call = {jsonrpc: '2.0', id: 7, method: 'tools/call', params: {name: 'slow', arguments: {steps: 2}, _meta: {progressToken: 'tok'}}}
  const res = await post(h, call, a.headers)
  assert.equal(res.headers.get('content-type'), 'text/event-stream')
  const text = await res.text()
  const ids = [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!)
  const data = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!))
  assert.deepEqual(
    data.map((d) => d.params?.progressToken ?? d.id),
    ['tok', 'tok', 7],
  )
  assert.equal(data[2].result.content[0].text, 'done 2')
  // Replay everything after the first event of that stream.
  const replay = await fetch(h.url, {headers: {...a.headers, accept: 'text/event-stream', 'last-event-id': ids[0]!}})
  assert.equal(replay.status, 200)
  const replayed = [...(await replay.text()).matchAll(/^id: (.*)$/gm)].map((m) => m[1])
  assert.deepEqual(replayed, ids.slice(1))
  // GET opens the standalone stream; only one at a time.
  const controller = new AbortController()
  const stream = await fetch(h.url, {headers: {...a.headers, accept: 'text/event-stream'}, signal: controller.signal})
  assert.equal(stream.status, 200)
  assert.equal(stream.headers.get('content-type'), 'text/event-stream')
  assert.equal((await fetch(h.url, {headers: {...a.headers, accept: 'text/event-stream'}})).status, 409)
  controller.abort()
})

test('limits: sessions beyond maxSessions get 503 with Retry-After; idle sessions expire', async (t) => {
  const clock = manualClock(Date.now())
  const h = await startHarness(t, {clock, limits: {maxSessions: 2, sessionIdleTimeoutMs: 60_000, sweepIntervalMs: 3_600_000}})
  const a = await open(h, 'alice')
  await open(h, 'bob')
  const res = await post(h, init(), {authorization: `Bearer ${await h.token('carol')}`})
  assert.equal(res.status, 503)
  assert.ok(res.headers.get('retry-after'))
  clock.advance(30_000)
  assert.equal((await post(h, {jsonrpc: '2.0', id: 2, method: 'ping'}, a.headers)).status, 200)
  clock.advance(40_000)
  h.gateway.sweep()
  // bob was idle 70 s: gone; alice was active 40 s ago: still here.
  assert.equal(h.gateway.stats().sessions, 1)
  assert.equal((await post(h, {jsonrpc: '2.0', id: 3, method: 'ping'}, a.headers)).status, 200)
  assert.equal((await open(h, 'carol')).result.protocolVersion, '2025-11-25')
})

test('children: stopped once their client has had no session for childIdleTimeoutMs', async (t) => {
  const clock = manualClock(Date.now())
  const h = await startHarness(t, {clock, limits: {childIdleTimeoutMs: 10_000, sweepIntervalMs: 3_600_000}})
  const a = await open(h, 'alice')
  assert.equal(h.gateway.stats().children, 1)
  await fetch(h.url, {method: 'DELETE', headers: a.headers})
  clock.advance(5_000)
  h.gateway.sweep()
  assert.equal(h.gateway.stats().children, 1)
  clock.advance(5_000)
  h.gateway.sweep()
  assert.equal(h.gateway.stats().children, 0)
})
