// DNS rebinding and cross-origin reads. Rules: MCP transports §Security Warning (validate Origin;
// bind to localhost), MCP security best practices (local servers: DNS rebinding), RFC 9110 §7.2
// (Host), the Fetch standard's CORS protocol (credential-less `*` for public endpoints only).
import assert from 'node:assert/strict'
import {request} from 'node:http'
import {test} from 'node:test'
import {assertStillServes, generousLimits, perFile} from '../helpers/attacks.js'
import {fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'

const server = perFile(async (t) => {
  const s = await startInProcess(t, generousLimits)
  const agent = await s.client({name: 'agent'})
  return {s, token: await fetchToken(s.issuer, agent)}
})

function raw({method = 'GET', path = '/', headers = {}}: {method?: string; path?: string; headers?: Record<string, string>}) {
  return new Promise<{status: number; headers: Record<string, string | string[] | undefined>}>((resolve, reject) => {
    const req = request({host: '127.0.0.1', port: server().s.server.port, method, path, headers, setHost: !('Host' in headers)}, (res) => {
      res.resume()
      res.on('end', () => resolve({status: res.statusCode!, headers: res.headers}))
    })
    req.on('error', reject)
    req.end()
  })
}

for (const host of ['evil.example', '127.0.0.1.evil.example', 'localhost.evil.example', '0.0.0.0', '127.0.0.2']) {
  test(`DNS rebinding: Host ${host} is refused with 403 on every endpoint (MCP transports §Security Warning)`, async () => {
    const port = server().s.server.port
    for (const path of ['/.well-known/oauth-authorization-server', '/oauth/authorize', '/mcp']) {
      assert.equal((await raw({path, headers: {Host: `${host}:${port}`}})).status, 403, `${host} ${path}`)
    }
  })
}

test('DNS rebinding control: loopback names on our port are served', async () => {
  const port = server().s.server.port
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) assert.equal((await raw({path: '/.well-known/oauth-authorization-server', headers: {Host: host}})).status, 200, host)
})

test('an Origin that is not allowed gets 403 at /mcp, even with a valid token (MCP transports §Security Warning)', async () => {
  for (const origin of ['https://evil.example', 'null', 'http://localhost:1']) {
    const r = await raw({method: 'POST', path: '/mcp', headers: {Origin: origin, Authorization: `Bearer ${server().token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream'}})
    assert.equal(r.status, 403, origin)
    assert.equal(r.headers['access-control-allow-origin'], undefined, origin)
  }
})

test('CORS: a preflight to /mcp from a foreign origin is refused, without Allow-Origin (Fetch §CORS protocol)', async () => {
  const r = await raw({method: 'OPTIONS', path: '/mcp', headers: {Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization'}})
  assert.equal(r.status, 403)
  assert.equal(r.headers['access-control-allow-origin'], undefined)
})

test('CORS: the consent page is not readable cross-origin (Fetch §CORS protocol; RFC 9700 §4.16)', async () => {
  const r = await raw({path: '/oauth/authorize', headers: {Origin: 'https://evil.example'}})
  assert.equal(r.headers['access-control-allow-origin'], undefined)
})

test('CORS: public endpoints answer with * and never allow credentials (Fetch §CORS protocol)', async () => {
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']) {
    const r = await raw({path, headers: {Origin: 'https://evil.example'}})
    assert.equal(r.headers['access-control-allow-origin'], '*')
    assert.equal(r.headers['access-control-allow-credentials'], undefined)
  }
  await assertStillServes(server().s.issuer)
})
