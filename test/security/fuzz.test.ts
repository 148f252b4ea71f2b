// Property-based tests (fast-check): whatever arrives at the token, introspection, revocation
// and MCP endpoints, the answer is a 4xx or a success, never a 5xx, and the daemon keeps serving.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import fc from 'fast-check'
import {basic, fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'

const contentTypes = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'multipart/form-data; boundary=x',
  '',
)

const formishBody = fc.oneof(
  fc.string({maxLength: 300}),
  fc.dictionary(fc.constantFrom('grant_type', 'scope', 'resource', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'token', 'token_type_hint', 'code', 'refresh_token', 'x'), fc.string({maxLength: 60})).map((d) => new URLSearchParams(d).toString()),
  fc.jsonValue({maxDepth: 4}).map((v) => JSON.stringify(v)),
  fc.uint8Array({maxLength: 200}).map((b) => Buffer.from(b).toString('latin1')),
  fc.integer({min: 1, max: 3000}).map((n) => '['.repeat(n) + ']'.repeat(n)),
)

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.string({maxLength: 80}),
  fc.string({maxLength: 80}).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
  fc.string({maxLength: 80}).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, 'a')}`),
)

/** Header values must be valid for fetch to send them; invalid bytes are the raw-HTTP tests' job. */
const sendable = (v: string | undefined) => (v === undefined ? undefined : v.replace(/[^\x20-\x7e]/g, '?'))

test('random requests to the OAuth endpoints never produce a 5xx', async (t) => {
  const s = await startInProcess(t, {authFailures: {perClient: {burst: 1e6, perMinute: 1e6}, perAddress: {burst: 1e6, perMinute: 1e6}}})
  const agent = await s.client({name: 'fuzz'})
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('/oauth/token', '/oauth/introspect', '/oauth/revoke', '/oauth/info'), contentTypes, formishBody, authorization, async (path, type, body, auth) => {
      const headers: Record<string, string> = {}
      if (type) headers['Content-Type'] = type
      const a = sendable(auth)
      if (a !== undefined) headers.Authorization = a
      const res = await fetch(`${s.issuer}${path}`, {method: path === '/oauth/info' ? 'GET' : 'POST', headers, body: path === '/oauth/info' ? undefined : body})
      const text = await res.text()
      assert.ok(res.status < 500, `${res.status} for ${path} ${type} ${JSON.stringify(body).slice(0, 100)}: ${text}`)
      if (res.status >= 400 && text) assert.equal(typeof (JSON.parse(text) as {error: unknown}).error, 'string')
    }),
    {numRuns: 300},
  )
  assert.ok(await fetchToken(s.issuer, agent), 'still serving')
  void basic
})

test('random requests to the MCP endpoint never produce a 5xx', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'mcp-fuzz'})
  const token = await fetchToken(s.issuer, agent)
  const init = await fetch(`${s.issuer}/mcp`, {
    method: 'POST',
    headers: {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json'},
    body: JSON.stringify({jsonrpc: '2.0', id: 0, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 'f', version: '1'}}}),
  })
  assert.equal(init.status, 200)
  const session = init.headers.get('mcp-session-id')!
  await init.text()
  const message = fc.oneof(
    fc.record({jsonrpc: fc.constantFrom('2.0', '1.0', 2), id: fc.oneof(fc.integer(), fc.string({maxLength: 10}), fc.constant(null)), method: fc.constantFrom('ping', 'tools/list', 'tools/call', 'resources/read', 'initialize', 'notifications/cancelled', 'x/y'), params: fc.jsonValue({maxDepth: 3})}, {requiredKeys: []}),
    fc.jsonValue({maxDepth: 4}),
    fc.array(fc.jsonValue({maxDepth: 2}), {maxLength: 5}),
  )
  await fc.assert(
    fc.asyncProperty(
      message,
      fc.constantFrom('application/json, text/event-stream', 'application/json', 'text/html', '*/*'),
      fc.constantFrom('application/json', 'text/plain'),
      fc.constantFrom(session, 'nope', undefined),
      fc.constantFrom('2025-11-25', '2025-06-18', '2025-03-26', '1999-01-01', undefined),
      async (msg, accept, type, sid, version) => {
        const headers: Record<string, string> = {Authorization: `Bearer ${token}`, Accept: accept, 'Content-Type': type}
        if (sid) headers['Mcp-Session-Id'] = sid
        if (version) headers['MCP-Protocol-Version'] = version
        const ac = new AbortController()
        // An answer must come: a request left hanging fails the property with its counterexample
        // (a leak the request timeout would only end minutes later), rather than stalling the run.
        const res = await fetch(`${s.issuer}/mcp`, {method: 'POST', headers, body: JSON.stringify(msg), signal: AbortSignal.any([ac.signal, AbortSignal.timeout(15_000)])})
        assert.ok(res.status < 500, `${res.status} for ${JSON.stringify(msg).slice(0, 120)}`)
        // An SSE answer may stay open (e.g. a request the server never answers); don't wait on it.
        if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) ac.abort()
        else await res.text()
      },
    ),
    {numRuns: 200},
  )
  const ping = await fetch(`${s.issuer}/mcp`, {
    method: 'POST',
    headers: {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json', 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25'},
    body: JSON.stringify({jsonrpc: '2.0', id: 'alive', method: 'ping'}),
  })
  assert.equal(ping.status, 200)
  assert.deepEqual(((await ping.json()) as {result: unknown}).result, {})
})
