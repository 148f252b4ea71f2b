// One daemon, several names (issue 11, items 21, 22) and one parameter per name (item 30).
// - RFC 9728 §3.3: the metadata's `resource` is the URL the client used; the MCP SDK refuses a
//   mismatch. So each loopback name that reaches the listener (without --issuer) gets metadata,
//   challenges and tokens under its own name, and `/mcp/` is `/mcp` with its own metadata URL.
// - RFC 3986 §6.2.2.1: scheme and host are case-insensitive in `resource` (RFC 8707).
// - RFC 6749 §3.1, §3.2: a parameter sent twice is refused in a JSON body as in a form body.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {basic, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {connectWithClientCredentials} from '../helpers/mcp-client.js'
import {tempDir} from '../helpers/tmp.js'

test('an SDK client given http://localhost:PORT/mcp or /mcp/ discovers, gets a token and calls tools', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir})
  const port = new URL(daemon.issuer).port
  const local = `http://localhost:${port}`
  for (const mcpUrl of [`${local}/mcp`, `${local}/mcp/`, `${daemon.issuer}/mcp/`]) {
    const origin = new URL(mcpUrl).origin
    // The challenge names the metadata under the name and path the client used.
    const bare = await fetch(mcpUrl, {method: 'POST', headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'}, body: '{}'})
    assert.equal(bare.status, 401, mcpUrl)
    const slash = mcpUrl.endsWith('/') ? '/' : ''
    assert.equal(bare.headers.get('www-authenticate'), `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp${slash}"`)
    const prm = (await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp${slash}`)).json()) as {resource: string; authorization_servers: string[]}
    assert.equal(prm.resource, mcpUrl)
    assert.deepEqual(prm.authorization_servers, [origin])
    const as = (await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()) as {issuer: string; token_endpoint: string}
    assert.equal(as.issuer, origin, 'RFC 8414 §3.3')
    assert.equal(as.token_endpoint, `${origin}/oauth/token`)
    const client = await connectWithClientCredentials(t, mcpUrl, {clientId: agent.client_id, clientSecret: agent.client_secret, issuer: origin})
    assert.ok((await client.listTools()).tools.length > 0, mcpUrl)
  }
})

test('resource: any served name, any case of scheme and host; a token for one name works at the others; others refused', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir})
  const port = new URL(daemon.issuer).port
  const token = async (resource: string) => {
    const res = await fetch(`${daemon.issuer}/oauth/token`, {
      method: 'POST',
      headers: {Authorization: basic(agent.client_id, agent.client_secret), 'Content-Type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'client_credentials', resource}),
    })
    return {status: res.status, body: (await res.json()) as {access_token?: string; error?: string}}
  }
  for (const resource of [`HTTP://LOCALHOST:${port}/mcp`, `http://LocalHost:${port}/mcp/`, `HTTP://127.0.0.1:${port}/mcp`]) {
    const r = await token(resource)
    assert.equal(r.status, 200, resource)
    const aud = JSON.parse(Buffer.from(r.body.access_token!.split('.')[1]!, 'base64url').toString()).aud
    assert.equal(aud, resource.toLowerCase().replace(/\/$/, ''))
    // Same listener, same server: the token is good under every served name.
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
      const info = await fetch(`${origin}/mcp`, {method: 'DELETE', headers: {authorization: `Bearer ${r.body.access_token}`}})
      assert.notEqual(info.status, 401, `${resource} at ${origin}`)
    }
  }
  // Not a name of this listener (bound to 127.0.0.1, not ::1), another port, another path.
  for (const resource of [`http://[::1]:${port}/mcp`, `http://localhost:1/mcp`, `http://localhost:${port}/other`]) {
    const r = await token(resource)
    assert.equal(r.status, 400, resource)
    assert.equal(r.body.error, 'invalid_target')
  }
})

test('a parameter repeated in a JSON body is refused as in a form body', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'agent'])
  const daemon = await startDaemon(t, {dataDir})
  const post = (type: string, body: string) =>
    fetch(`${daemon.issuer}/oauth/token`, {method: 'POST', headers: {Authorization: basic(agent.client_id, agent.client_secret), 'Content-Type': type}, body})
  const form = await post('application/x-www-form-urlencoded', 'grant_type=client_credentials&scope=mcp&scope=x')
  const json = await post('application/json', '{"grant_type":"client_credentials","scope":"mcp","scope":"x"}')
  assert.equal(form.status, 400)
  assert.equal(json.status, 400)
  assert.deepEqual(await json.json(), await form.json())
  // The resource parameter has its own error (RFC 8707 §2), in both forms.
  const res = await post('application/json', '{"grant_type":"client_credentials","resource":"a","resource":"b"}')
  assert.equal(((await res.json()) as {error: string}).error, 'invalid_target')
  // Registration (RFC 7591 §3.1 JSON) too, and a repeat at any depth.
  const reg = await fetch(`${daemon.issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"client_name":"a","client_name":"b","redirect_uris":["http://127.0.0.1:1/cb"]}'})
  assert.equal(reg.status, 400)
  const nested = await post('application/json', '{"grant_type":"client_credentials","x":{"a":1,"a":2}}')
  assert.equal(nested.status, 400)
  assert.equal((await post('application/json', '{"grant_type":"client_credentials"}')).status, 200)
})
