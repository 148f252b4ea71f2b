// The daemon as users run it (`oauth-server`), agents as they are written (the official MCP SDK
// with its client-credentials provider), the stdio MCP server as shipped (the bundled memory
// server, or a server given after --).
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {test} from 'node:test'
import {runBin, repoRoot} from '../helpers/cli.js'
import {fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {connectWithClientCredentials, firstText} from '../helpers/mcp-client.js'
import {tempDir} from '../helpers/tmp.js'

test('an SDK agent with only the MCP URL and its credentials discovers, connects, lists and calls tools', async (t) => {
  const dataDir = tempDir(t)
  const alice = await generateClient(dataDir, ['--name', 'alice'])
  const bob = await generateClient(dataDir, ['--name', 'bob'])
  const daemon = await startDaemon(t, {dataDir})
  const mcpUrl = `${daemon.issuer}/mcp`

  const a = await connectWithClientCredentials(t, mcpUrl, {clientId: alice.client_id, clientSecret: alice.client_secret, issuer: daemon.issuer})
  const tools = (await a.listTools()).tools.map((x) => x.name)
  for (const name of ['create_entities', 'read_graph', 'search_nodes', 'delete_entities']) assert.ok(tools.includes(name), name)
  await a.callTool({name: 'create_entities', arguments: {entities: [{name: 'alice-secret', entityType: 'note', observations: ['only alice']}]}})
  assert.match(firstText(await a.callTool({name: 'read_graph', arguments: {}})), /alice-secret/)

  // Another client has its own memory (its own child, its own file): it sees nothing of alice's.
  const b = await connectWithClientCredentials(t, mcpUrl, {clientId: bob.client_id, clientSecret: bob.client_secret, issuer: daemon.issuer})
  assert.doesNotMatch(firstText(await b.callTool({name: 'read_graph', arguments: {}})), /alice-secret/)

  // A second session of alice shares alice's child and memory.
  const a2 = await connectWithClientCredentials(t, mcpUrl, {clientId: alice.client_id, clientSecret: alice.client_secret, issuer: daemon.issuer})
  assert.match(firstText(await a2.callTool({name: 'read_graph', arguments: {}})), /alice-secret/)
})

test('nobody without a valid token gets in; the 401 points at the resource metadata', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir})
  const init = {jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 'x', version: '1'}}}
  const post = (headers: Record<string, string>) =>
    fetch(`${daemon.issuer}/mcp`, {method: 'POST', headers: {Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json', ...headers}, body: JSON.stringify(init)})
  const none = await post({})
  assert.equal(none.status, 401)
  assert.equal(none.headers.get('www-authenticate'), `Bearer resource_metadata="${daemon.issuer}/.well-known/oauth-protected-resource/mcp"`)
  const bad = await post({Authorization: 'Bearer not-a-token'})
  assert.equal(bad.status, 401)
  assert.match(bad.headers.get('www-authenticate')!, /error="invalid_token"/)

  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const prm = (await (await fetch(`${daemon.issuer}${path}`)).json()) as Record<string, unknown>
    assert.equal(prm.resource, `${daemon.issuer}/mcp`)
    assert.deepEqual(prm.authorization_servers, [daemon.issuer])
    assert.deepEqual(prm.bearer_methods_supported, ['header'])
    assert.ok(Array.isArray(prm.scopes_supported))
  }
  // A token for another audience is refused.
  const wrongAudience = await fetch(`${daemon.issuer}/oauth/token`, {
    method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Basic ' + Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')},
    body: `grant_type=client_credentials&resource=${encodeURIComponent('https://other.example/mcp')}`,
  })
  assert.equal(wrongAudience.status, 400)
  // A revoked client's session stops at its next request.
  const token = await fetchToken(daemon.issuer, agent)
  assert.equal((await post({Authorization: `Bearer ${token}`})).status, 200)
  await runBin('oauth-revoke-client', [agent.client_id, '--yes'], {dataDir})
  assert.equal((await post({Authorization: `Bearer ${token}`})).status, 401)
})

test('a server given after -- is gated, and its environment holds no token', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'custom'])
  const fixture = join(repoRoot, 'test', 'fixtures', 'mcp-test-server.mjs')
  const daemon = await startDaemon(t, {dataDir, args: ['--env', 'GREETING=hi', '--', process.execPath, fixture]})
  const c = await connectWithClientCredentials(t, `${daemon.issuer}/mcp`, {clientId: agent.client_id, clientSecret: agent.client_secret, issuer: daemon.issuer})
  const names = (await c.listTools()).tools.map((x) => x.name)
  assert.ok(names.includes('echo'), names.join(','))
  assert.equal(firstText(await c.callTool({name: 'echo', arguments: {text: 'through the gate'}})), 'through the gate')
  assert.match(daemon.stdout(), /gating .*mcp-test-server\.mjs/)
})
