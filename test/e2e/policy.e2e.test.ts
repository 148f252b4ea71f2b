// Per-tool scopes with the official SDK client, against the real daemon and the bundled memory
// server (MCP 2025-11-25 authorization §Scope Challenge Handling; CONTRACT.md "Policy file").
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {runBin} from '../helpers/cli.js'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {connectWithClientCredentials} from '../helpers/mcp-client.js'
import {tempDir} from '../helpers/tmp.js'

const POLICY = `default: memories:admin
tools:
  "read_*": memories:read
  "search_*": memories:read
  "open_*": memories:read
  "create_*": [memories:write]
  "add_*": memories:write
`

const READ_TOOLS = ['open_nodes', 'read_graph', 'search_nodes']
const WRITE_TOOLS = ['add_observations', 'create_entities', 'create_relations']

async function initialize(mcpUrl: string, token: string) {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json'},
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 'raw', version: '1'}}}),
  })
  return res.headers.get('mcp-session-id')!
}

test('a read-scoped client sees only read tools, gets the 403 challenge on a write tool, and a wider token succeeds', async (t) => {
  const dataDir = tempDir(t)
  const policyFile = join(dataDir, '..', `policy-${process.pid}-${Date.now()}.yaml`)
  writeFileSync(policyFile, POLICY)
  t.after(() => import('node:fs').then((fs) => fs.rmSync(policyFile, {force: true})))
  const reader = await generateClient(dataDir, ['--name', 'reader', '--scope', 'memories:read'])
  const writer = await generateClient(dataDir, ['--name', 'writer', '--scope', 'memories:read memories:write'])
  const daemon = await startDaemon(t, {dataDir, args: ['--policy', policyFile]})
  const mcpUrl = `${daemon.issuer}/mcp`

  // Discovery lists every scope the policy names.
  const asMeta = (await (await fetch(`${daemon.issuer}/.well-known/oauth-authorization-server`)).json()) as {scopes_supported: string[]}
  const prm = (await (await fetch(`${daemon.issuer}/.well-known/oauth-protected-resource/mcp`)).json()) as {scopes_supported: string[]}
  for (const s of ['memories:read', 'memories:write', 'memories:admin']) {
    assert.ok(asMeta.scopes_supported.includes(s), s)
    assert.ok(prm.scopes_supported.includes(s), s)
  }

  const r = await connectWithClientCredentials(t, mcpUrl, {clientId: reader.client_id, clientSecret: reader.client_secret, issuer: daemon.issuer})
  assert.deepEqual((await r.listTools()).tools.map((x) => x.name).sort(), READ_TOOLS)
  await r.callTool({name: 'read_graph', arguments: {}})
  await assert.rejects(r.callTool({name: 'create_entities', arguments: {entities: []}}), /403/)

  // The challenge itself, as a raw client sees it.
  const token = await fetchToken(daemon.issuer, reader)
  const session = await initialize(mcpUrl, token)
  const denied = await fetch(mcpUrl, {
    method: 'POST',
    headers: {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json', 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25'},
    body: JSON.stringify({jsonrpc: '2.0', id: 2, method: 'tools/call', params: {name: 'delete_entities', arguments: {entityNames: []}}}),
  })
  assert.equal(denied.status, 403)
  const challenge = denied.headers.get('www-authenticate')!
  assert.match(challenge, /^Bearer error="insufficient_scope"/)
  assert.match(challenge, /scope="memories:read memories:admin"/)
  assert.match(challenge, new RegExp(`resource_metadata="${daemon.issuer}/.well-known/oauth-protected-resource/mcp"`))

  // A client that holds the wider scope but asked for the narrow one is refused too (the SDK's
  // client-credentials provider asks again with its configured scope, so the retry fails) ...
  const narrow = await connectWithClientCredentials(t, mcpUrl, {clientId: writer.client_id, clientSecret: writer.client_secret, issuer: daemon.issuer, scope: 'memories:read'})
  assert.deepEqual((await narrow.listTools()).tools.map((x) => x.name).sort(), READ_TOOLS)
  await assert.rejects(narrow.callTool({name: 'create_entities', arguments: {entities: []}}), /403/)
  // ... and with a token for the wider scope the same call succeeds, and the list grows.
  const wide = await connectWithClientCredentials(t, mcpUrl, {clientId: writer.client_id, clientSecret: writer.client_secret, issuer: daemon.issuer, scope: 'memories:read memories:write'})
  await wide.callTool({name: 'create_entities', arguments: {entities: [{name: 'stepped-up', entityType: 'note', observations: []}]}})
  assert.deepEqual((await wide.listTools()).tools.map((x) => x.name).sort(), [...READ_TOOLS, ...WRITE_TOOLS].sort())

  assert.equal(await daemon.stop(), 0)
  const audit = JSON.parse((await runBin('run', ['audit', '--json', '--client-id', reader.client_id], {dataDir})).stdout) as Array<Record<string, unknown>>
  const calls = audit.filter((e) => e.event === 'mcp.request' && e.method === 'tools/call').map((e) => `${e.name}:${e.outcome}`)
  // The SDK retries a 403 once after asking for a token again: two refusals of create_entities.
  assert.deepEqual(calls, ['read_graph:ok', 'create_entities:forbidden', 'create_entities:forbidden', 'delete_entities:forbidden'])
  const withSession = audit.find((e) => e.event === 'mcp.request' && e.name === 'read_graph')!
  assert.ok(withSession.session_id)
  assert.equal(typeof withSession.duration_ms, 'number')
})

test('MCP requests can be rate-limited per client: 429 with Retry-After, nobody else slowed, audited', async (t) => {
  const dataDir = tempDir(t)
  const hammer = await generateClient(dataDir, ['--name', 'hammer', '--mcp-rate-limit', '3'])
  const calm = await generateClient(dataDir, ['--name', 'calm'])
  const daemon = await startDaemon(t, {dataDir})
  const mcpUrl = `${daemon.issuer}/mcp`
  const token = await fetchToken(daemon.issuer, hammer)
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: {Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 'h', version: '1'}}}),
    })
    statuses.push(res.status)
    if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1)
    await res.body?.cancel()
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429])
  const other = await connectWithClientCredentials(t, mcpUrl, {clientId: calm.client_id, clientSecret: calm.client_secret, issuer: daemon.issuer})
  for (let i = 0; i < 5; i++) await other.listTools()
  assert.equal(await daemon.stop(), 0)
  const audit = JSON.parse((await runBin('run', ['audit', '--json', '--client-id', hammer.client_id], {dataDir})).stdout) as Array<Record<string, unknown>>
  assert.equal(audit.filter((e) => e.outcome === 'rate_limited').length, 2)
})

// The v2 SDK's ClientCredentialsProvider asks for every scope in scopes_supported (MCP
// authorization §Scope Selection Strategy). A client-credentials token gets the ones the client
// may have (RFC 6749 §3.3, §4.4.2), so a read-only agent connects in both eras and sees read
// tools only; asking only for scopes the client may not have is still invalid_scope.
test('the v2 SDK client of a read-only client connects under a policy (it asks for every scope) and sees only read tools', async (t) => {
  const {Client, ClientCredentialsProvider, StreamableHTTPClientTransport} = await import('@modelcontextprotocol/client')
  const dataDir = tempDir(t)
  const policyFile = join(dataDir, '..', `policy-v2-${process.pid}-${Date.now()}.yaml`)
  writeFileSync(policyFile, POLICY)
  t.after(() => import('node:fs').then((fs) => fs.rmSync(policyFile, {force: true})))
  const reader = await generateClient(dataDir, ['--name', 'reader', '--scope', 'memories:read'])
  const daemon = await startDaemon(t, {dataDir, args: ['--policy', policyFile]})

  const all = 'memories:read memories:write memories:admin'
  const res = await fetch(`${daemon.issuer}/oauth/token`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${reader.client_id}:${reader.client_secret}`).toString('base64')}`},
    body: new URLSearchParams({grant_type: 'client_credentials', scope: all}),
  })
  assert.equal(res.status, 200)
  assert.equal(((await res.json()) as {scope: string}).scope, 'memories:read')
  const none = await fetch(`${daemon.issuer}/oauth/token`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${reader.client_id}:${reader.client_secret}`).toString('base64')}`},
    body: new URLSearchParams({grant_type: 'client_credentials', scope: 'memories:admin'}),
  })
  assert.equal(none.status, 400)
  assert.equal(((await none.json()) as {error: string}).error, 'invalid_scope')

  for (const mode of [{pin: '2026-07-28'}, 'auto'] as const) {
    const authProvider = new ClientCredentialsProvider({clientId: reader.client_id, clientSecret: reader.client_secret, expectedIssuer: daemon.issuer} as ConstructorParameters<typeof ClientCredentialsProvider>[0])
    const transport = new StreamableHTTPClientTransport(new URL(`${daemon.issuer}/mcp`), {authProvider})
    const client = new Client({name: 'v2-reader', version: '1.0.0'}, {versionNegotiation: {mode}} as ConstructorParameters<typeof Client>[1])
    await client.connect(transport)
    t.after(() => client.close().catch(() => {}))
    assert.deepEqual((await client.listTools()).tools.map((x) => x.name).sort(), READ_TOOLS, JSON.stringify(mode))
  }
})
