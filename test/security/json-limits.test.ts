// Oversized, deeply nested and non-UTF-8 bodies. Rules: RFC 8259 §8.1 (JSON is UTF-8) and §9
// (parsers may limit size and depth), RFC 6749 §5.2 (invalid_request), RFC 7591 §3.2.2,
// MCP transports §Sending Messages, DESIGN.md principle 7 (every limit explicit; bad input gets
// a clear error and changes nothing). The daemon must answer 4xx and keep serving.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {assertStillServes, generousLimits, interactiveServer, perFile, postForm, WEB} from '../helpers/attacks.js'
import {basic, fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'

const server = perFile(async (t) => {
  const {s} = await interactiveServer(t, generousLimits)
  const agent = await s.client({name: 'agent'})
  const token = await fetchToken(s.issuer, agent)
  return {s, agent, token}
})
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
const mcp = (body: string | Buffer) =>
  fetch(`${server().s.issuer}/mcp`, {method: 'POST', headers: {Authorization: `Bearer ${server().token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json'}, body})
const registration = (body: string | Buffer) => fetch(`${server().s.issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body})

test('deeply nested JSON at /oauth/register is a 400, not a crash (RFC 8259 §9; RFC 7591 §3.2.2)', async () => {
  const r = await registration(nested(8000))
  assert.equal(r.status, 400)
  const inside = await registration(`{"redirect_uris":${nested(7000)}}`)
  assert.equal(inside.status, 400)
  await assertStillServes(server().s.issuer)
})

test('deeply nested JSON at /mcp is a 400, not a crash (RFC 8259 §9)', async () => {
  const r = await mcp(nested(100_000))
  assert.ok(r.status >= 400 && r.status < 500, String(r.status))
  await assertStillServes(server().s.issuer)
})

test('deeply nested params inside an initialize at /mcp are not a crash (RFC 8259 §9)', async () => {
  const body = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"n","version":"1"},"x":${nested(50_000)}}}`
  const r = await mcp(body)
  assert.ok(r.status < 500, String(r.status))
  await r.text()
  await assertStillServes(server().s.issuer)
})

test('deeply nested JSON at the token endpoint is invalid_request (RFC 6749 §5.2)', async () => {
  const {s, agent} = server()
  const r = await postForm(`${s.issuer}/oauth/token`, `{"grant_type":${nested(20_000)}}`, {'Content-Type': 'application/json', Authorization: basic(agent.client_id, agent.client_secret)})
  assert.equal(r.status, 400)
  assert.equal(r.body.error, 'invalid_request')
})

test('invalid UTF-8 at the token endpoint is invalid_request (RFC 8259 §8.1; RFC 6749 §5.2)', async () => {
  const {s, agent} = server()
  const r = await postForm(`${s.issuer}/oauth/token`, Buffer.from([0x67, 0xff, 0xfe]), {Authorization: basic(agent.client_id, agent.client_secret)})
  assert.equal(r.status, 400)
  assert.equal(r.body.error, 'invalid_request')
})

test('invalid UTF-8 at /oauth/register is a 400 and registers nothing (RFC 8259 §8.1)', async () => {
  const before = (await server().s.store.clients.list({includeRevoked: true})).length
  const r = await registration(Buffer.concat([Buffer.from(`{"redirect_uris":["${WEB}"],"client_name":"`), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from('"}')]))
  assert.equal(r.status, 400)
  assert.equal((await server().s.store.clients.list({includeRevoked: true})).length, before)
})

test('invalid UTF-8 at /mcp is a 400 parse error, never passed on (RFC 8259 §8.1)', async () => {
  const r = await mcp(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('","version":"1"}}}')]))
  assert.equal(r.status, 400)
  await assertStillServes(server().s.issuer)
})

test('an oversized token request is 413 before it is read whole (DESIGN principle 7)', async () => {
  const {s, agent} = server()
  const r = await postForm(`${s.issuer}/oauth/token`, `grant_type=client_credentials&pad=${'x'.repeat(70 * 1024)}`, {Authorization: basic(agent.client_id, agent.client_secret)})
  assert.equal(r.status, 413)
  assert.equal(r.body.error, 'invalid_request')
})

test('an oversized /mcp body is 413 and the daemon keeps serving (DESIGN principle 7)', async () => {
  const r = await mcp(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"p":"${'x'.repeat(5 * 1024 * 1024)}"}}`)
  assert.equal(r.status, 413)
  await assertStillServes(server().s.issuer)
})

test('a request whose params are not an object is refused at once, not left for the server to drop (JSON-RPC 2.0 §4.2)', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'params'})
  const token = await fetchToken(s.issuer, agent)
  const headers = {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json'}
  const init = await fetch(`${s.issuer}/mcp`, {method: 'POST', headers, body: JSON.stringify({jsonrpc: '2.0', id: 0, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 'p', version: '1'}}})})
  const session = init.headers.get('mcp-session-id')!
  await init.text()
  for (const params of [5, true, null, 'text', [1, 2]]) {
    const res = await fetch(`${s.issuer}/mcp`, {
      method: 'POST',
      headers: {...headers, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/call', params}),
      signal: AbortSignal.timeout(10_000),
    })
    assert.equal(res.status, 400, JSON.stringify(params))
    assert.match(((await res.json()) as {error: {message: string}}).error.message, /params must be an object/)
  }
})
